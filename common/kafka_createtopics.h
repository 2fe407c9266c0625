/* kafka_createtopics.h — CreateTopics (key 19) request and response, v0-v7.
 * Pattern, ownership and return values as in kafka_apiversions.h. The
 * response's tagged TopicConfigErrorCode (v5+, tag 0) is decoded, and written
 * only when it is not 0. */
#ifndef EDDY_KAFKA_CREATETOPICS_H
#define EDDY_KAFKA_CREATETOPICS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_createtopics_assignment {
    int32_t partition_index;
    int32_t *broker_ids;
    int32_t n_broker_ids;
} kafka_createtopics_assignment;

typedef struct kafka_createtopics_config {
    kafka_str name;
    kafka_str value;                    /* nullable */
} kafka_createtopics_config;

typedef struct kafka_createtopics_topic {
    kafka_str name;
    int32_t num_partitions;
    int16_t replication_factor;
    kafka_createtopics_assignment *assignments;
    int32_t n_assignments;
    kafka_createtopics_config *configs;
    int32_t n_configs;
} kafka_createtopics_topic;

typedef struct kafka_createtopics_req {
    kafka_createtopics_topic *topics;
    int32_t n_topics;
    int32_t timeout_ms;
    bool validate_only;                 /* v1+, default false */
} kafka_createtopics_req;

typedef struct kafka_createtopics_result_config {
    kafka_str name;
    kafka_str value;                    /* nullable */
    bool read_only;
    int8_t config_source;               /* default -1 */
    bool is_sensitive;
} kafka_createtopics_result_config;

typedef struct kafka_createtopics_result {
    kafka_str name;
    kafka_uuid topic_id;                /* v7+ */
    int16_t error_code;
    kafka_str error_message;            /* v1+, nullable, default "" */
    int16_t topic_config_error_code;    /* v5+, tag 0, default 0 */
    int32_t num_partitions;             /* v5+, default -1 */
    int16_t replication_factor;         /* v5+, default -1 */
    kafka_createtopics_result_config *configs; /* v5+ */
    int32_t n_configs;                  /* -1: null */
} kafka_createtopics_result;

typedef struct kafka_createtopics_resp {
    int32_t throttle_time_ms;           /* v2+ */
    kafka_createtopics_result *topics;
    int32_t n_topics;
} kafka_createtopics_resp;

/** Decode a CreateTopics request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_createtopics_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_createtopics_req *out);
/** Encode a CreateTopics request body; errors are sticky in @p w. */
void kafka_createtopics_req_encode(kafka_writer *w, int16_t version, const kafka_createtopics_req *in);
/** Decode a CreateTopics response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_createtopics_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_createtopics_resp *out);
/** Encode a CreateTopics response body; errors are sticky in @p w. */
void kafka_createtopics_resp_encode(kafka_writer *w, int16_t version, const kafka_createtopics_resp *in);

#endif
