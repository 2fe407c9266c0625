/* kafka_offsetdelete.h — OffsetDelete (key 47) request and response, v0
 * only (never flexible). Follows the codec pattern described in
 * kafka_apiversions.h. */
#ifndef EDDY_KAFKA_OFFSETDELETE_H
#define EDDY_KAFKA_OFFSETDELETE_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_offsetdelete_req_topic {
    kafka_str name;
    int32_t *partitions;           /* partition indexes */
    int32_t n_partitions;
} kafka_offsetdelete_req_topic;

typedef struct kafka_offsetdelete_req {
    kafka_str group_id;
    kafka_offsetdelete_req_topic *topics;
    int32_t n_topics;
} kafka_offsetdelete_req;

typedef struct kafka_offsetdelete_resp_partition {
    int32_t partition_index;
    int16_t error_code;
} kafka_offsetdelete_resp_partition;

typedef struct kafka_offsetdelete_resp_topic {
    kafka_str name;
    kafka_offsetdelete_resp_partition *partitions;
    int32_t n_partitions;
} kafka_offsetdelete_resp_topic;

typedef struct kafka_offsetdelete_resp {
    int16_t error_code;
    int32_t throttle_time_ms;
    kafka_offsetdelete_resp_topic *topics;
    int32_t n_topics;
} kafka_offsetdelete_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  other than 0) or -ENOMEM. */
int kafka_offsetdelete_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_offsetdelete_req *out);
/** Encode a request body of @p version (v0); errors stay in the writer. */
void kafka_offsetdelete_req_encode(kafka_writer *w, int16_t version, const kafka_offsetdelete_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_offsetdelete_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_offsetdelete_resp *out);
/** Encode a response body of @p version (v0). */
void kafka_offsetdelete_resp_encode(kafka_writer *w, int16_t version, const kafka_offsetdelete_resp *in);

#endif
