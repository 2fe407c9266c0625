#include "kafka_apiversions.h"

#include <errno.h>

int kafka_apiversions_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_apiversions_req *out) {
    (void)a;
    bool flex = v >= 3;
    out->client_software_name = (kafka_str){NULL, -1};
    out->client_software_version = (kafka_str){NULL, -1};
    if (v < 0 || v > 4)
        return -EBADMSG;
    if (v >= 3) {
        out->client_software_name = kr_string(r, flex);
        out->client_software_version = kr_string(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_apiversions_req_encode(kafka_writer *w, int16_t v, const kafka_apiversions_req *in) {
    bool flex = v >= 3;
    if (v >= 3) {
        kw_str(w, flex, in->client_software_name);
        kw_str(w, flex, in->client_software_version);
    }
    kw_tags_empty(w, flex);
}

int kafka_apiversions_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_apiversions_resp *out) {
    bool flex = v >= 3;
    out->error_code = kr_i16(r);
    int32_t n = kr_array(r, flex, 6);
    out->n_api_keys = n < 0 ? 0 : n;
    out->api_keys = NULL;
    if (n > 0) {
        out->api_keys = arena_calloc(a, (size_t)n, sizeof *out->api_keys);
        if (!out->api_keys)
            return -ENOMEM;
    }
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        out->api_keys[i].api_key = kr_i16(r);
        out->api_keys[i].min_version = kr_i16(r);
        out->api_keys[i].max_version = kr_i16(r);
        kr_skip_tags(r, flex);
    }
    out->throttle_time_ms = v >= 1 ? kr_i32(r) : 0;
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_apiversions_resp_encode(kafka_writer *w, int16_t v, const kafka_apiversions_resp *in) {
    bool flex = v >= 3;
    kw_i16(w, in->error_code);
    kw_array(w, flex, in->n_api_keys);
    for (int32_t i = 0; i < in->n_api_keys; i++) {
        kw_i16(w, in->api_keys[i].api_key);
        kw_i16(w, in->api_keys[i].min_version);
        kw_i16(w, in->api_keys[i].max_version);
        kw_tags_empty(w, flex);
    }
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    kw_tags_empty(w, flex);
}
