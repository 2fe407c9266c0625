/* kafka_heartbeat.h — Heartbeat (key 12) request and response, v0-v4
 * (flexible from v4). Follows the codec pattern described in
 * kafka_apiversions.h: views into the frame, arrays in the caller's arena,
 * fields absent in a version left at their protocol defaults. */
#ifndef EDDY_KAFKA_HEARTBEAT_H
#define EDDY_KAFKA_HEARTBEAT_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_heartbeat_req {
    kafka_str group_id;
    int32_t generation_id;
    kafka_str member_id;
    kafka_str group_instance_id;   /* v3+, nullable; default null */
} kafka_heartbeat_req;

typedef struct kafka_heartbeat_resp {
    int32_t throttle_time_ms;      /* v1+ */
    int16_t error_code;
} kafka_heartbeat_resp;

/** Decode a request body of @p version. Return 0, or -EBADMSG when the body
 *  is malformed or @p version is outside v0-v4. */
int kafka_heartbeat_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_heartbeat_req *out);
/** Encode a request body of @p version (v0-v4); errors stay in the writer. */
void kafka_heartbeat_req_encode(kafka_writer *w, int16_t version, const kafka_heartbeat_req *in);
/** Decode a response body of @p version: 0 or -EBADMSG. */
int kafka_heartbeat_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_heartbeat_resp *out);
/** Encode a response body of @p version (v0-v4). */
void kafka_heartbeat_resp_encode(kafka_writer *w, int16_t version, const kafka_heartbeat_resp *in);

#endif
