/* kafka_describeproducers.h — DescribeProducers (key 61) request and
 * response, v0 (flexible). Pattern, ownership and return values as in
 * kafka_apiversions.h. */
#ifndef EDDY_KAFKA_DESCRIBEPRODUCERS_H
#define EDDY_KAFKA_DESCRIBEPRODUCERS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_describeproducers_topic {
    kafka_str name;
    int32_t *partition_indexes;
    int32_t n_partition_indexes;
} kafka_describeproducers_topic;

typedef struct kafka_describeproducers_req {
    kafka_describeproducers_topic *topics;
    int32_t n_topics;
} kafka_describeproducers_req;

typedef struct kafka_describeproducers_producer {
    int64_t producer_id;
    int32_t producer_epoch;
    int32_t last_sequence;              /* default -1 */
    int64_t last_timestamp;             /* default -1 */
    int32_t coordinator_epoch;
    int64_t current_txn_start_offset;   /* default -1 */
} kafka_describeproducers_producer;

typedef struct kafka_describeproducers_partition {
    int32_t partition_index;
    int16_t error_code;
    kafka_str error_message;            /* nullable */
    kafka_describeproducers_producer *active_producers;
    int32_t n_active_producers;
} kafka_describeproducers_partition;

typedef struct kafka_describeproducers_topic_resp {
    kafka_str name;
    kafka_describeproducers_partition *partitions;
    int32_t n_partitions;
} kafka_describeproducers_topic_resp;

typedef struct kafka_describeproducers_resp {
    int32_t throttle_time_ms;
    kafka_describeproducers_topic_resp *topics;
    int32_t n_topics;
} kafka_describeproducers_resp;

/** Decode a DescribeProducers request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_describeproducers_req_decode(kafka_reader *r, int16_t version, arena *a,
                                       kafka_describeproducers_req *out);
/** Encode a DescribeProducers request body; errors are sticky in @p w. */
void kafka_describeproducers_req_encode(kafka_writer *w, int16_t version,
                                        const kafka_describeproducers_req *in);
/** Decode a DescribeProducers response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_describeproducers_resp_decode(kafka_reader *r, int16_t version, arena *a,
                                        kafka_describeproducers_resp *out);
/** Encode a DescribeProducers response body; errors are sticky in @p w. */
void kafka_describeproducers_resp_encode(kafka_writer *w, int16_t version,
                                         const kafka_describeproducers_resp *in);

#endif
