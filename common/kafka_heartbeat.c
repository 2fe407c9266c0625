#include "kafka_heartbeat.h"

#include <errno.h>

#define HB_MAX_VERSION 4
#define HB_FLEX_FROM 4

int kafka_heartbeat_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_heartbeat_req *out) {
    (void)a;
    bool flex = v >= HB_FLEX_FROM;
    *out = (kafka_heartbeat_req){.group_instance_id = {NULL, -1}};
    if (v < 0 || v > HB_MAX_VERSION)
        return -EBADMSG;
    out->group_id = kr_string(r, flex);
    out->generation_id = kr_i32(r);
    out->member_id = kr_string(r, flex);
    if (v >= 3)
        out->group_instance_id = kr_nstring(r, flex);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_heartbeat_req_encode(kafka_writer *w, int16_t v, const kafka_heartbeat_req *in) {
    bool flex = v >= HB_FLEX_FROM;
    kw_str(w, flex, in->group_id);
    kw_i32(w, in->generation_id);
    kw_str(w, flex, in->member_id);
    if (v >= 3)
        kw_str(w, flex, in->group_instance_id);
    kw_tags_empty(w, flex);
}

int kafka_heartbeat_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_heartbeat_resp *out) {
    (void)a;
    bool flex = v >= HB_FLEX_FROM;
    *out = (kafka_heartbeat_resp){0};
    if (v < 0 || v > HB_MAX_VERSION)
        return -EBADMSG;
    if (v >= 1)
        out->throttle_time_ms = kr_i32(r);
    out->error_code = kr_i16(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_heartbeat_resp_encode(kafka_writer *w, int16_t v, const kafka_heartbeat_resp *in) {
    bool flex = v >= HB_FLEX_FROM;
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    kw_i16(w, in->error_code);
    kw_tags_empty(w, flex);
}
