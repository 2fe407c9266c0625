#include "kafka_initproducerid.h"

#include <errno.h>

#define INITPRODUCERID_MAX_VERSION 5
#define INITPRODUCERID_FLEX_FROM 2

int kafka_initproducerid_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_initproducerid_req *out) {
    (void)a;
    *out = (kafka_initproducerid_req){.transactional_id = {NULL, -1}, .producer_id = -1, .producer_epoch = -1};
    if (v < 0 || v > INITPRODUCERID_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= INITPRODUCERID_FLEX_FROM;
    out->transactional_id = kr_nstring(r, flex);
    out->transaction_timeout_ms = kr_i32(r);
    if (v >= 3) {
        out->producer_id = kr_i64(r);
        out->producer_epoch = kr_i16(r);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_initproducerid_req_encode(kafka_writer *w, int16_t v, const kafka_initproducerid_req *in) {
    bool flex = v >= INITPRODUCERID_FLEX_FROM;
    kw_str(w, flex, in->transactional_id);
    kw_i32(w, in->transaction_timeout_ms);
    if (v >= 3) {
        kw_i64(w, in->producer_id);
        kw_i16(w, in->producer_epoch);
    }
    kw_tags_empty(w, flex);
}

int kafka_initproducerid_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_initproducerid_resp *out) {
    (void)a;
    *out = (kafka_initproducerid_resp){.producer_id = -1};
    if (v < 0 || v > INITPRODUCERID_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= INITPRODUCERID_FLEX_FROM;
    out->throttle_time_ms = kr_i32(r);
    out->error_code = kr_i16(r);
    out->producer_id = kr_i64(r);
    out->producer_epoch = kr_i16(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_initproducerid_resp_encode(kafka_writer *w, int16_t v, const kafka_initproducerid_resp *in) {
    bool flex = v >= INITPRODUCERID_FLEX_FROM;
    kw_i32(w, in->throttle_time_ms);
    kw_i16(w, in->error_code);
    kw_i64(w, in->producer_id);
    kw_i16(w, in->producer_epoch);
    kw_tags_empty(w, flex);
}
