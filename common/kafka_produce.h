/* kafka_produce.h — Produce (key 0) request and response, v0-v11.
 *
 * Pattern, ownership and return values as in kafka_apiversions.h. The records
 * of a request partition are a view into the decoded frame: never copied here,
 * validated by the caller with kafka_records.c. Response v10+ tagged fields
 * (CurrentLeader, NodeEndpoints) are decoded and are written only when they
 * differ from their defaults, as Kafka does. */
#ifndef EDDY_KAFKA_PRODUCE_H
#define EDDY_KAFKA_PRODUCE_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_proto.h"
#include "kafka_writer.h"

typedef struct kafka_produce_partition {
    int32_t index;
    kafka_bytes records;                /* nullable; view into the frame */
} kafka_produce_partition;

typedef struct kafka_produce_topic {
    kafka_str name;
    kafka_produce_partition *partition_data;
    int32_t n_partition_data;
} kafka_produce_topic;

typedef struct kafka_produce_req {
    kafka_str transactional_id;         /* v3+, nullable, default null */
    int16_t acks;
    int32_t timeout_ms;
    kafka_produce_topic *topic_data;
    int32_t n_topic_data;
} kafka_produce_req;

typedef struct kafka_produce_record_error {
    int32_t batch_index;
    kafka_str batch_index_error_message; /* nullable, default null */
} kafka_produce_record_error;

typedef struct kafka_produce_leader {
    int32_t leader_id;                  /* default -1 */
    int32_t leader_epoch;               /* default -1 */
} kafka_produce_leader;

typedef struct kafka_produce_partition_resp {
    int32_t index;
    int16_t error_code;
    int64_t base_offset;
    int64_t log_append_time_ms;         /* v2+, default -1 */
    int64_t log_start_offset;           /* v5+, default -1 */
    kafka_produce_record_error *record_errors; /* v8+ */
    int32_t n_record_errors;
    kafka_str error_message;            /* v8+, nullable, default null */
    kafka_produce_leader current_leader; /* v10+, tag 0 */
} kafka_produce_partition_resp;

typedef struct kafka_produce_topic_resp {
    kafka_str name;
    kafka_produce_partition_resp *partition_responses;
    int32_t n_partition_responses;
} kafka_produce_topic_resp;

typedef kafka_node_endpoint kafka_produce_node_endpoint;

typedef struct kafka_produce_resp {
    kafka_produce_topic_resp *responses;
    int32_t n_responses;
    int32_t throttle_time_ms;           /* v1+ */
    kafka_produce_node_endpoint *node_endpoints; /* v10+, tag 0 */
    int32_t n_node_endpoints;
} kafka_produce_resp;

/** Decode a Produce request body of @p version into @p out (views into the
 *  reader's buffer, arrays in @p a). Return 0, -EBADMSG or -ENOMEM. */
int kafka_produce_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_produce_req *out);
/** Encode a Produce request body (records are copied: tests and tools). */
void kafka_produce_req_encode(kafka_writer *w, int16_t version, const kafka_produce_req *in);
/** Decode a Produce response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_produce_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_produce_resp *out);
/** Encode a Produce response body; errors are sticky in @p w. */
void kafka_produce_resp_encode(kafka_writer *w, int16_t version, const kafka_produce_resp *in);

#endif
