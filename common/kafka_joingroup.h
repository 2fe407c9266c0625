/* kafka_joingroup.h — JoinGroup (key 11) request and response, v0-v9
 * (flexible from v6). Protocol metadata and member metadata are opaque bytes
 * here (kafka_consumer_protocol.h reads the consumer format). Follows the
 * codec pattern described in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_JOINGROUP_H
#define EDDY_KAFKA_JOINGROUP_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_joingroup_protocol {
    kafka_str name;
    kafka_bytes metadata;
} kafka_joingroup_protocol;

typedef struct kafka_joingroup_req {
    kafka_str group_id;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;     /* v1+; default -1 */
    kafka_str member_id;
    kafka_str group_instance_id;      /* v5+, nullable; default null */
    kafka_str protocol_type;
    kafka_joingroup_protocol *protocols;
    int32_t n_protocols;
    kafka_str reason;                 /* v8+, nullable; default null */
} kafka_joingroup_req;

typedef struct kafka_joingroup_member {
    kafka_str member_id;
    kafka_str group_instance_id;      /* v5+, nullable; default null */
    kafka_bytes metadata;
} kafka_joingroup_member;

typedef struct kafka_joingroup_resp {
    int32_t throttle_time_ms;         /* v2+ */
    int16_t error_code;
    int32_t generation_id;
    kafka_str protocol_type;          /* v7+, nullable; default null */
    kafka_str protocol_name;          /* nullable from v7 */
    kafka_str leader;
    bool skip_assignment;             /* v9+ */
    kafka_str member_id;
    kafka_joingroup_member *members;
    int32_t n_members;
} kafka_joingroup_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  outside v0-v9) or -ENOMEM. */
int kafka_joingroup_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_joingroup_req *out);
/** Encode a request body of @p version (v0-v9); errors stay in the writer. */
void kafka_joingroup_req_encode(kafka_writer *w, int16_t version, const kafka_joingroup_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_joingroup_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_joingroup_resp *out);
/** Encode a response body of @p version (v0-v9). A null protocol_name is
 *  only valid from v7. */
void kafka_joingroup_resp_encode(kafka_writer *w, int16_t version, const kafka_joingroup_resp *in);

#endif
