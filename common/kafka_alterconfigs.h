/* kafka_alterconfigs.h — AlterConfigs (key 33) request and response, v0-v2.
 * Pattern, ownership and return values as in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_ALTERCONFIGS_H
#define EDDY_KAFKA_ALTERCONFIGS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_alterconfigs_config {
    kafka_str name;
    kafka_str value;                    /* nullable */
} kafka_alterconfigs_config;

typedef struct kafka_alterconfigs_resource {
    int8_t resource_type;
    kafka_str resource_name;
    kafka_alterconfigs_config *configs;
    int32_t n_configs;
} kafka_alterconfigs_resource;

typedef struct kafka_alterconfigs_req {
    kafka_alterconfigs_resource *resources;
    int32_t n_resources;
    bool validate_only;
} kafka_alterconfigs_req;

typedef struct kafka_alterconfigs_result {
    int16_t error_code;
    kafka_str error_message;            /* nullable */
    int8_t resource_type;
    kafka_str resource_name;
} kafka_alterconfigs_result;

typedef struct kafka_alterconfigs_resp {
    int32_t throttle_time_ms;
    kafka_alterconfigs_result *responses;
    int32_t n_responses;
} kafka_alterconfigs_resp;

/** Decode an AlterConfigs request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_alterconfigs_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_alterconfigs_req *out);
/** Encode an AlterConfigs request body; errors are sticky in @p w. */
void kafka_alterconfigs_req_encode(kafka_writer *w, int16_t version, const kafka_alterconfigs_req *in);
/** Decode an AlterConfigs response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_alterconfigs_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_alterconfigs_resp *out);
/** Encode an AlterConfigs response body; errors are sticky in @p w. */
void kafka_alterconfigs_resp_encode(kafka_writer *w, int16_t version, const kafka_alterconfigs_resp *in);

#endif
