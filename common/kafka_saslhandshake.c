#include "kafka_saslhandshake.h"

#include <errno.h>

#define SH_MAX_VERSION 1

/* No version of SaslHandshake is flexible. */
#define SH_FLEX false

int kafka_saslhandshake_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_saslhandshake_req *out) {
    (void)a;
    *out = (kafka_saslhandshake_req){{"", 0}};
    if (v < 0 || v > SH_MAX_VERSION)
        return -EBADMSG;
    out->mechanism = kr_string(r, SH_FLEX);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_saslhandshake_req_encode(kafka_writer *w, int16_t v, const kafka_saslhandshake_req *in) {
    (void)v;
    kw_str(w, SH_FLEX, in->mechanism);
}

int kafka_saslhandshake_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_saslhandshake_resp *out) {
    *out = (kafka_saslhandshake_resp){0};
    if (v < 0 || v > SH_MAX_VERSION)
        return -EBADMSG;
    out->error_code = kr_i16(r);
    /* each mechanism name takes at least its int16 length */
    int32_t n = kr_array(r, SH_FLEX, 2);
    if (n < 0) {
        kr_fail(r);
        n = 0;
    }
    if (n > 0 && !(out->mechanisms = arena_calloc(a, (size_t)n, sizeof *out->mechanisms)))
        return -ENOMEM;
    out->n_mechanisms = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        out->mechanisms[i] = kr_string(r, SH_FLEX);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_saslhandshake_resp_encode(kafka_writer *w, int16_t v, const kafka_saslhandshake_resp *in) {
    (void)v;
    kw_i16(w, in->error_code);
    kw_array(w, SH_FLEX, in->n_mechanisms);
    for (int32_t i = 0; i < in->n_mechanisms; i++)
        kw_str(w, SH_FLEX, in->mechanisms[i]);
}
