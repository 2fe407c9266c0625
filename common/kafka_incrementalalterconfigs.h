/* kafka_incrementalalterconfigs.h — IncrementalAlterConfigs (key 44) request
 * and response, v0-v1. Pattern, ownership and return values as in
 * kafka_apiversions.h. config_operation: 0 SET, 1 DELETE, 2 APPEND,
 * 3 SUBTRACT. */
#ifndef EDDY_KAFKA_INCREMENTALALTERCONFIGS_H
#define EDDY_KAFKA_INCREMENTALALTERCONFIGS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_incrementalalterconfigs_config {
    kafka_str name;
    int8_t config_operation;
    kafka_str value;                    /* nullable */
} kafka_incrementalalterconfigs_config;

typedef struct kafka_incrementalalterconfigs_resource {
    int8_t resource_type;
    kafka_str resource_name;
    kafka_incrementalalterconfigs_config *configs;
    int32_t n_configs;
} kafka_incrementalalterconfigs_resource;

typedef struct kafka_incrementalalterconfigs_req {
    kafka_incrementalalterconfigs_resource *resources;
    int32_t n_resources;
    bool validate_only;
} kafka_incrementalalterconfigs_req;

typedef struct kafka_incrementalalterconfigs_result {
    int16_t error_code;
    kafka_str error_message;            /* nullable */
    int8_t resource_type;
    kafka_str resource_name;
} kafka_incrementalalterconfigs_result;

typedef struct kafka_incrementalalterconfigs_resp {
    int32_t throttle_time_ms;
    kafka_incrementalalterconfigs_result *responses;
    int32_t n_responses;
} kafka_incrementalalterconfigs_resp;

/** Decode an AlterConfigs request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_incrementalalterconfigs_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_incrementalalterconfigs_req *out);
/** Encode an AlterConfigs request body; errors are sticky in @p w. */
void kafka_incrementalalterconfigs_req_encode(kafka_writer *w, int16_t version, const kafka_incrementalalterconfigs_req *in);
/** Decode an AlterConfigs response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_incrementalalterconfigs_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_incrementalalterconfigs_resp *out);
/** Encode an AlterConfigs response body; errors are sticky in @p w. */
void kafka_incrementalalterconfigs_resp_encode(kafka_writer *w, int16_t version, const kafka_incrementalalterconfigs_resp *in);

#endif
