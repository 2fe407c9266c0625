/* kafka_listgroups.h — ListGroups (key 16) request and response, v0-v5
 * (flexible from v3; v4 adds the states filter, v5 the types filter).
 * Follows the codec pattern described in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_LISTGROUPS_H
#define EDDY_KAFKA_LISTGROUPS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_listgroups_req {
    kafka_str *states_filter;      /* v4+; empty means all */
    int32_t n_states_filter;
    kafka_str *types_filter;       /* v5+; empty means all */
    int32_t n_types_filter;
} kafka_listgroups_req;

typedef struct kafka_listgroups_group {
    kafka_str group_id;
    kafka_str protocol_type;
    kafka_str group_state;         /* v4+; default "" */
    kafka_str group_type;          /* v5+; default "" */
} kafka_listgroups_group;

typedef struct kafka_listgroups_resp {
    int32_t throttle_time_ms;      /* v1+ */
    int16_t error_code;
    kafka_listgroups_group *groups;
    int32_t n_groups;
} kafka_listgroups_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  outside v0-v5) or -ENOMEM. */
int kafka_listgroups_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_listgroups_req *out);
/** Encode a request body of @p version (v0-v5); errors stay in the writer. */
void kafka_listgroups_req_encode(kafka_writer *w, int16_t version, const kafka_listgroups_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_listgroups_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_listgroups_resp *out);
/** Encode a response body of @p version (v0-v5). */
void kafka_listgroups_resp_encode(kafka_writer *w, int16_t version, const kafka_listgroups_resp *in);

#endif
