/* kafka_describeconfigs.h — DescribeConfigs (key 32) request and response,
 * v0-v4. Pattern, ownership and return values as in kafka_apiversions.h. A
 * null configuration_keys list (n == -1) asks for every key. */
#ifndef EDDY_KAFKA_DESCRIBECONFIGS_H
#define EDDY_KAFKA_DESCRIBECONFIGS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_describeconfigs_resource {
    int8_t resource_type;
    kafka_str resource_name;
    kafka_str *configuration_keys;
    int32_t n_configuration_keys;       /* -1: null (all keys) */
} kafka_describeconfigs_resource;

typedef struct kafka_describeconfigs_req {
    kafka_describeconfigs_resource *resources;
    int32_t n_resources;
    bool include_synonyms;              /* v1+, default false */
    bool include_documentation;         /* v3+, default false */
} kafka_describeconfigs_req;

typedef struct kafka_describeconfigs_synonym {
    kafka_str name;
    kafka_str value;                    /* nullable */
    int8_t source;
} kafka_describeconfigs_synonym;

typedef struct kafka_describeconfigs_config {
    kafka_str name;
    kafka_str value;                    /* nullable */
    bool read_only;
    bool is_default;                    /* v0 only, default false */
    int8_t config_source;               /* v1+, default -1 */
    bool is_sensitive;
    kafka_describeconfigs_synonym *synonyms; /* v1+ */
    int32_t n_synonyms;
    int8_t config_type;                 /* v3+, default 0 */
    kafka_str documentation;            /* v3+, nullable, default "" */
} kafka_describeconfigs_config;

typedef struct kafka_describeconfigs_result {
    int16_t error_code;
    kafka_str error_message;            /* nullable */
    int8_t resource_type;
    kafka_str resource_name;
    kafka_describeconfigs_config *configs;
    int32_t n_configs;
} kafka_describeconfigs_result;

typedef struct kafka_describeconfigs_resp {
    int32_t throttle_time_ms;
    kafka_describeconfigs_result *results;
    int32_t n_results;
} kafka_describeconfigs_resp;

/** Decode a DescribeConfigs request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_describeconfigs_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_describeconfigs_req *out);
/** Encode a DescribeConfigs request body; errors are sticky in @p w. */
void kafka_describeconfigs_req_encode(kafka_writer *w, int16_t version, const kafka_describeconfigs_req *in);
/** Decode a DescribeConfigs response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_describeconfigs_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_describeconfigs_resp *out);
/** Encode a DescribeConfigs response body; errors are sticky in @p w. */
void kafka_describeconfigs_resp_encode(kafka_writer *w, int16_t version, const kafka_describeconfigs_resp *in);

#endif
