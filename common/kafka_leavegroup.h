/* kafka_leavegroup.h — LeaveGroup (key 13) request and response, v0-v5
 * (flexible from v4). v0-v2 name one member; v3+ carry a batch of member
 * identities and per-member results. Follows the codec pattern described in
 * kafka_apiversions.h. */
#ifndef EDDY_KAFKA_LEAVEGROUP_H
#define EDDY_KAFKA_LEAVEGROUP_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_leavegroup_member {
    kafka_str member_id;
    kafka_str group_instance_id;   /* nullable; default null */
    kafka_str reason;              /* v5+, nullable; default null */
} kafka_leavegroup_member;

typedef struct kafka_leavegroup_req {
    kafka_str group_id;
    kafka_str member_id;           /* v0-2; default "" */
    kafka_leavegroup_member *members;  /* v3+ */
    int32_t n_members;
} kafka_leavegroup_req;

typedef struct kafka_leavegroup_member_resp {
    kafka_str member_id;
    kafka_str group_instance_id;   /* nullable */
    int16_t error_code;
} kafka_leavegroup_member_resp;

typedef struct kafka_leavegroup_resp {
    int32_t throttle_time_ms;      /* v1+ */
    int16_t error_code;
    kafka_leavegroup_member_resp *members;  /* v3+ */
    int32_t n_members;
} kafka_leavegroup_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  outside v0-v5) or -ENOMEM. */
int kafka_leavegroup_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_leavegroup_req *out);
/** Encode a request body of @p version (v0-v5); errors stay in the writer. */
void kafka_leavegroup_req_encode(kafka_writer *w, int16_t version, const kafka_leavegroup_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_leavegroup_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_leavegroup_resp *out);
/** Encode a response body of @p version (v0-v5). */
void kafka_leavegroup_resp_encode(kafka_writer *w, int16_t version, const kafka_leavegroup_resp *in);

#endif
