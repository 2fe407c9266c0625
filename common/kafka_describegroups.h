/* kafka_describegroups.h — DescribeGroups (key 15) request and response,
 * v0-v5 (flexible from v5). Member metadata and assignments are opaque
 * bytes here. Follows the codec pattern described in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_DESCRIBEGROUPS_H
#define EDDY_KAFKA_DESCRIBEGROUPS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_describegroups_req {
    kafka_str *groups;
    int32_t n_groups;
    bool include_authorized_operations;   /* v3+ */
} kafka_describegroups_req;

typedef struct kafka_describegroups_member {
    kafka_str member_id;
    kafka_str group_instance_id;          /* v4+, nullable; default null */
    kafka_str client_id;
    kafka_str client_host;
    kafka_bytes member_metadata;
    kafka_bytes member_assignment;
} kafka_describegroups_member;

typedef struct kafka_describegroups_group {
    int16_t error_code;
    kafka_str group_id;
    kafka_str group_state;
    kafka_str protocol_type;
    kafka_str protocol_data;
    kafka_describegroups_member *members;
    int32_t n_members;
    int32_t authorized_operations;        /* v3+; default INT32_MIN */
} kafka_describegroups_group;

typedef struct kafka_describegroups_resp {
    int32_t throttle_time_ms;             /* v1+ */
    kafka_describegroups_group *groups;
    int32_t n_groups;
} kafka_describegroups_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  outside v0-v5) or -ENOMEM. */
int kafka_describegroups_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_describegroups_req *out);
/** Encode a request body of @p version (v0-v5); errors stay in the writer. */
void kafka_describegroups_req_encode(kafka_writer *w, int16_t version, const kafka_describegroups_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_describegroups_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_describegroups_resp *out);
/** Encode a response body of @p version (v0-v5). */
void kafka_describegroups_resp_encode(kafka_writer *w, int16_t version, const kafka_describegroups_resp *in);

#endif
