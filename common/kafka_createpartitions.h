/* kafka_createpartitions.h — CreatePartitions (key 37) request and response,
 * v0-v3. Pattern, ownership and return values as in kafka_apiversions.h. A
 * null assignments list (n == -1) lets the broker place the new partitions. */
#ifndef EDDY_KAFKA_CREATEPARTITIONS_H
#define EDDY_KAFKA_CREATEPARTITIONS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_createpartitions_assignment {
    int32_t *broker_ids;
    int32_t n_broker_ids;
} kafka_createpartitions_assignment;

typedef struct kafka_createpartitions_topic {
    kafka_str name;
    int32_t count;
    kafka_createpartitions_assignment *assignments;
    int32_t n_assignments;              /* -1: null */
} kafka_createpartitions_topic;

typedef struct kafka_createpartitions_req {
    kafka_createpartitions_topic *topics;
    int32_t n_topics;
    int32_t timeout_ms;
    bool validate_only;
} kafka_createpartitions_req;

typedef struct kafka_createpartitions_result {
    kafka_str name;
    int16_t error_code;
    kafka_str error_message;            /* nullable, default null */
} kafka_createpartitions_result;

typedef struct kafka_createpartitions_resp {
    int32_t throttle_time_ms;
    kafka_createpartitions_result *results;
    int32_t n_results;
} kafka_createpartitions_resp;

/** Decode a CreatePartitions request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_createpartitions_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_createpartitions_req *out);
/** Encode a CreatePartitions request body; errors are sticky in @p w. */
void kafka_createpartitions_req_encode(kafka_writer *w, int16_t version, const kafka_createpartitions_req *in);
/** Decode a CreatePartitions response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_createpartitions_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_createpartitions_resp *out);
/** Encode a CreatePartitions response body; errors are sticky in @p w. */
void kafka_createpartitions_resp_encode(kafka_writer *w, int16_t version, const kafka_createpartitions_resp *in);

#endif
