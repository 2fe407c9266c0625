/* kafka_syncgroup.h — SyncGroup (key 14) request and response, v0-v5
 * (flexible from v4). Assignments are opaque bytes here
 * (kafka_consumer_protocol.h reads the consumer format). Follows the codec
 * pattern described in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_SYNCGROUP_H
#define EDDY_KAFKA_SYNCGROUP_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_syncgroup_assignment {
    kafka_str member_id;
    kafka_bytes assignment;
} kafka_syncgroup_assignment;

typedef struct kafka_syncgroup_req {
    kafka_str group_id;
    int32_t generation_id;
    kafka_str member_id;
    kafka_str group_instance_id;   /* v3+, nullable; default null */
    kafka_str protocol_type;       /* v5+, nullable; default null */
    kafka_str protocol_name;       /* v5+, nullable; default null */
    kafka_syncgroup_assignment *assignments;
    int32_t n_assignments;
} kafka_syncgroup_req;

typedef struct kafka_syncgroup_resp {
    int32_t throttle_time_ms;      /* v1+ */
    int16_t error_code;
    kafka_str protocol_type;       /* v5+, nullable; default null */
    kafka_str protocol_name;       /* v5+, nullable; default null */
    kafka_bytes assignment;
} kafka_syncgroup_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  outside v0-v5) or -ENOMEM. */
int kafka_syncgroup_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_syncgroup_req *out);
/** Encode a request body of @p version (v0-v5); errors stay in the writer. */
void kafka_syncgroup_req_encode(kafka_writer *w, int16_t version, const kafka_syncgroup_req *in);
/** Decode a response body of @p version: 0 or -EBADMSG. */
int kafka_syncgroup_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_syncgroup_resp *out);
/** Encode a response body of @p version (v0-v5). */
void kafka_syncgroup_resp_encode(kafka_writer *w, int16_t version, const kafka_syncgroup_resp *in);

#endif
