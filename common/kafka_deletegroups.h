/* kafka_deletegroups.h — DeleteGroups (key 42) request and response, v0-v2
 * (flexible from v2). Follows the codec pattern described in
 * kafka_apiversions.h. */
#ifndef EDDY_KAFKA_DELETEGROUPS_H
#define EDDY_KAFKA_DELETEGROUPS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_deletegroups_req {
    kafka_str *groups_names;
    int32_t n_groups_names;
} kafka_deletegroups_req;

typedef struct kafka_deletegroups_result {
    kafka_str group_id;
    int16_t error_code;
} kafka_deletegroups_result;

typedef struct kafka_deletegroups_resp {
    int32_t throttle_time_ms;
    kafka_deletegroups_result *results;
    int32_t n_results;
} kafka_deletegroups_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  outside v0-v2) or -ENOMEM. */
int kafka_deletegroups_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_deletegroups_req *out);
/** Encode a request body of @p version (v0-v2); errors stay in the writer. */
void kafka_deletegroups_req_encode(kafka_writer *w, int16_t version, const kafka_deletegroups_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_deletegroups_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_deletegroups_resp *out);
/** Encode a response body of @p version (v0-v2). */
void kafka_deletegroups_resp_encode(kafka_writer *w, int16_t version, const kafka_deletegroups_resp *in);

#endif
