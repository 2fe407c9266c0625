#include "kafka_saslauthenticate.h"

#include <errno.h>

#define SA_MAX_VERSION 2
#define SA_FLEX_FROM 2

int kafka_saslauthenticate_req_decode(kafka_reader *r, int16_t v, arena *a,
                                      kafka_saslauthenticate_req *out) {
    (void)a;
    bool flex = v >= SA_FLEX_FROM;
    *out = (kafka_saslauthenticate_req){{NULL, 0}};
    if (v < 0 || v > SA_MAX_VERSION)
        return -EBADMSG;
    out->auth_bytes = kr_bytes(r, flex);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_saslauthenticate_req_encode(kafka_writer *w, int16_t v, const kafka_saslauthenticate_req *in) {
    bool flex = v >= SA_FLEX_FROM;
    kw_bytes(w, flex, in->auth_bytes.ptr, in->auth_bytes.len);
    kw_tags_empty(w, flex);
}

int kafka_saslauthenticate_resp_decode(kafka_reader *r, int16_t v, arena *a,
                                       kafka_saslauthenticate_resp *out) {
    (void)a;
    bool flex = v >= SA_FLEX_FROM;
    *out = (kafka_saslauthenticate_resp){0};
    if (v < 0 || v > SA_MAX_VERSION)
        return -EBADMSG;
    out->error_code = kr_i16(r);
    out->error_message = kr_nstring(r, flex);
    out->auth_bytes = kr_bytes(r, flex);
    if (v >= 1)
        out->session_lifetime_ms = kr_i64(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_saslauthenticate_resp_encode(kafka_writer *w, int16_t v, const kafka_saslauthenticate_resp *in) {
    bool flex = v >= SA_FLEX_FROM;
    kw_i16(w, in->error_code);
    kw_str(w, flex, in->error_message);
    kw_bytes(w, flex, in->auth_bytes.ptr, in->auth_bytes.len);
    if (v >= 1)
        kw_i64(w, in->session_lifetime_ms);
    kw_tags_empty(w, flex);
}
