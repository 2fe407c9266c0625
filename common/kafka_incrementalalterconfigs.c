#include "kafka_incrementalalterconfigs.h"

#include <errno.h>

#define INCREMENTALALTERCONFIGS_MAX_VERSION 1
#define INCREMENTALALTERCONFIGS_FLEX_FROM 1


int kafka_incrementalalterconfigs_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_incrementalalterconfigs_req *out) {
    *out = (kafka_incrementalalterconfigs_req){0};
    if (v < 0 || v > INCREMENTALALTERCONFIGS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= INCREMENTALALTERCONFIGS_FLEX_FROM;
    /* type, name, config count */
    int32_t n = kr_count(r, flex, flex ? 4 : 7, false);
    if (!ARENA_ALLOC_N(a, out->resources, n))
        return -ENOMEM;
    out->n_resources = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_incrementalalterconfigs_resource *res = &out->resources[i];
        res->resource_type = kr_i8(r);
        res->resource_name = kr_string(r, flex);
        /* name, operation, value */
        int32_t nc = kr_count(r, flex, flex ? 4 : 5, false);
        if (!ARENA_ALLOC_N(a, res->configs, nc))
            return -ENOMEM;
        res->n_configs = nc;
        for (int32_t j = 0; j < nc && kr_ok(r); j++) {
            res->configs[j].name = kr_string(r, flex);
            res->configs[j].config_operation = kr_i8(r);
            res->configs[j].value = kr_nstring(r, flex);
            kr_skip_tags(r, flex);
        }
        kr_skip_tags(r, flex);
    }
    out->validate_only = kr_bool(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_incrementalalterconfigs_req_encode(kafka_writer *w, int16_t v, const kafka_incrementalalterconfigs_req *in) {
    bool flex = v >= INCREMENTALALTERCONFIGS_FLEX_FROM;
    kw_array(w, flex, in->n_resources);
    for (int32_t i = 0; i < in->n_resources; i++) {
        const kafka_incrementalalterconfigs_resource *res = &in->resources[i];
        kw_i8(w, res->resource_type);
        kw_str(w, flex, res->resource_name);
        kw_array(w, flex, res->n_configs);
        for (int32_t j = 0; j < res->n_configs; j++) {
            kw_str(w, flex, res->configs[j].name);
            kw_i8(w, res->configs[j].config_operation);
            kw_str(w, flex, res->configs[j].value);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    kw_bool(w, in->validate_only);
    kw_tags_empty(w, flex);
}

int kafka_incrementalalterconfigs_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_incrementalalterconfigs_resp *out) {
    *out = (kafka_incrementalalterconfigs_resp){0};
    if (v < 0 || v > INCREMENTALALTERCONFIGS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= INCREMENTALALTERCONFIGS_FLEX_FROM;
    out->throttle_time_ms = kr_i32(r);
    /* error, message, type, name */
    int32_t n = kr_count(r, flex, flex ? 5 : 7, false);
    if (!ARENA_ALLOC_N(a, out->responses, n))
        return -ENOMEM;
    out->n_responses = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_incrementalalterconfigs_result *res = &out->responses[i];
        res->error_code = kr_i16(r);
        res->error_message = kr_nstring(r, flex);
        res->resource_type = kr_i8(r);
        res->resource_name = kr_string(r, flex);
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_incrementalalterconfigs_resp_encode(kafka_writer *w, int16_t v, const kafka_incrementalalterconfigs_resp *in) {
    bool flex = v >= INCREMENTALALTERCONFIGS_FLEX_FROM;
    kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_responses);
    for (int32_t i = 0; i < in->n_responses; i++) {
        const kafka_incrementalalterconfigs_result *res = &in->responses[i];
        kw_i16(w, res->error_code);
        kw_str(w, flex, res->error_message);
        kw_i8(w, res->resource_type);
        kw_str(w, flex, res->resource_name);
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
