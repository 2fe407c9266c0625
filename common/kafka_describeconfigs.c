#include "kafka_describeconfigs.h"

#include <errno.h>

#define DESCRIBECONFIGS_MAX_VERSION 4
#define DESCRIBECONFIGS_FLEX_FROM 4

static const kafka_str empty_str = {"", 0};



int kafka_describeconfigs_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_describeconfigs_req *out) {
    *out = (kafka_describeconfigs_req){0};
    if (v < 0 || v > DESCRIBECONFIGS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= DESCRIBECONFIGS_FLEX_FROM;
    /* type, name, key count */
    int32_t n = kr_count(r, flex, flex ? 4 : 7, false);
    if (!ARENA_ALLOC_N(a, out->resources, n))
        return -ENOMEM;
    out->n_resources = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_describeconfigs_resource *res = &out->resources[i];
        res->resource_type = kr_i8(r);
        res->resource_name = kr_string(r, flex);
        int32_t nk = kr_count(r, flex, flex ? 1 : 2, true);
        if (!ARENA_ALLOC_N(a, res->configuration_keys, nk))
            return -ENOMEM;
        res->n_configuration_keys = nk;
        for (int32_t j = 0; j < nk && kr_ok(r); j++)
            res->configuration_keys[j] = kr_string(r, flex);
        kr_skip_tags(r, flex);
    }
    if (v >= 1)
        out->include_synonyms = kr_bool(r);
    if (v >= 3)
        out->include_documentation = kr_bool(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_describeconfigs_req_encode(kafka_writer *w, int16_t v, const kafka_describeconfigs_req *in) {
    bool flex = v >= DESCRIBECONFIGS_FLEX_FROM;
    kw_array(w, flex, in->n_resources);
    for (int32_t i = 0; i < in->n_resources; i++) {
        const kafka_describeconfigs_resource *res = &in->resources[i];
        kw_i8(w, res->resource_type);
        kw_str(w, flex, res->resource_name);
        kw_array(w, flex, res->n_configuration_keys);
        for (int32_t j = 0; j < res->n_configuration_keys; j++)
            kw_str(w, flex, res->configuration_keys[j]);
        kw_tags_empty(w, flex);
    }
    if (v >= 1)
        kw_bool(w, in->include_synonyms);
    if (v >= 3)
        kw_bool(w, in->include_documentation);
    kw_tags_empty(w, flex);
}

static int decode_config(kafka_reader *r, int16_t v, arena *a, kafka_describeconfigs_config *c) {
    bool flex = v >= DESCRIBECONFIGS_FLEX_FROM;
    c->name = kr_string(r, flex);
    c->value = kr_nstring(r, flex);
    c->read_only = kr_bool(r);
    c->is_default = v == 0 ? kr_bool(r) : false;
    c->config_source = v >= 1 ? kr_i8(r) : -1;
    c->is_sensitive = kr_bool(r);
    if (v >= 1) {
        /* name, value, source */
        int32_t n = kr_count(r, flex, flex ? 4 : 5, false);
        if (!ARENA_ALLOC_N(a, c->synonyms, n))
            return -ENOMEM;
        c->n_synonyms = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++) {
            c->synonyms[i].name = kr_string(r, flex);
            c->synonyms[i].value = kr_nstring(r, flex);
            c->synonyms[i].source = kr_i8(r);
            kr_skip_tags(r, flex);
        }
    }
    c->config_type = v >= 3 ? kr_i8(r) : 0;
    c->documentation = v >= 3 ? kr_nstring(r, flex) : empty_str;
    kr_skip_tags(r, flex);
    return 0;
}

int kafka_describeconfigs_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_describeconfigs_resp *out) {
    *out = (kafka_describeconfigs_resp){0};
    if (v < 0 || v > DESCRIBECONFIGS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= DESCRIBECONFIGS_FLEX_FROM;
    out->throttle_time_ms = kr_i32(r);
    /* error, message, type, name, config count */
    int32_t n = kr_count(r, flex, flex ? 6 : 11, false);
    if (!ARENA_ALLOC_N(a, out->results, n))
        return -ENOMEM;
    out->n_results = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_describeconfigs_result *res = &out->results[i];
        res->error_code = kr_i16(r);
        res->error_message = kr_nstring(r, flex);
        res->resource_type = kr_i8(r);
        res->resource_name = kr_string(r, flex);
        /* name, value, two bools */
        int32_t nc = kr_count(r, flex, flex ? 4 : 6, false);
        if (!ARENA_ALLOC_N(a, res->configs, nc))
            return -ENOMEM;
        res->n_configs = nc;
        for (int32_t j = 0; j < nc && kr_ok(r); j++)
            if (decode_config(r, v, a, &res->configs[j]) < 0)
                return -ENOMEM;
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

static void encode_config(kafka_writer *w, int16_t v, const kafka_describeconfigs_config *c) {
    bool flex = v >= DESCRIBECONFIGS_FLEX_FROM;
    kw_str(w, flex, c->name);
    kw_str(w, flex, c->value);
    kw_bool(w, c->read_only);
    if (v == 0)
        kw_bool(w, c->is_default);
    if (v >= 1)
        kw_i8(w, c->config_source);
    kw_bool(w, c->is_sensitive);
    if (v >= 1) {
        kw_array(w, flex, c->n_synonyms);
        for (int32_t i = 0; i < c->n_synonyms; i++) {
            kw_str(w, flex, c->synonyms[i].name);
            kw_str(w, flex, c->synonyms[i].value);
            kw_i8(w, c->synonyms[i].source);
            kw_tags_empty(w, flex);
        }
    }
    if (v >= 3) {
        kw_i8(w, c->config_type);
        kw_str(w, flex, c->documentation);
    }
    kw_tags_empty(w, flex);
}

void kafka_describeconfigs_resp_encode(kafka_writer *w, int16_t v, const kafka_describeconfigs_resp *in) {
    bool flex = v >= DESCRIBECONFIGS_FLEX_FROM;
    kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_results);
    for (int32_t i = 0; i < in->n_results; i++) {
        const kafka_describeconfigs_result *res = &in->results[i];
        kw_i16(w, res->error_code);
        kw_str(w, flex, res->error_message);
        kw_i8(w, res->resource_type);
        kw_str(w, flex, res->resource_name);
        kw_array(w, flex, res->n_configs);
        for (int32_t j = 0; j < res->n_configs; j++)
            encode_config(w, v, &res->configs[j]);
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
