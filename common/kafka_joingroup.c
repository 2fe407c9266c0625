#include "kafka_joingroup.h"

#include <errno.h>

#define JG_MAX_VERSION 9
#define JG_FLEX_FROM 6

/* Smallest encodings, for kr_array() bounds: string length int16 / bytes
 * length int32 (one-byte varints when flexible), tag section one byte. */
#define MIN_STR(flex) ((flex) ? 1u : 2u)
#define MIN_BYTES(flex) ((flex) ? 1u : 4u)
#define MIN_TAGS(flex) ((flex) ? 1u : 0u)

int kafka_joingroup_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_joingroup_req *out) {
    bool flex = v >= JG_FLEX_FROM;
    *out = (kafka_joingroup_req){.rebalance_timeout_ms = -1,
                                 .group_instance_id = {NULL, -1},
                                 .reason = {NULL, -1}};
    if (v < 0 || v > JG_MAX_VERSION)
        return -EBADMSG;
    out->group_id = kr_string(r, flex);
    out->session_timeout_ms = kr_i32(r);
    if (v >= 1)
        out->rebalance_timeout_ms = kr_i32(r);
    out->member_id = kr_string(r, flex);
    if (v >= 5)
        out->group_instance_id = kr_nstring(r, flex);
    out->protocol_type = kr_string(r, flex);
    int32_t n = kr_count(r, flex, MIN_STR(flex) + MIN_BYTES(flex) + MIN_TAGS(flex), false);
    if (n > 0 && !(out->protocols = arena_calloc(a, (size_t)n, sizeof *out->protocols)))
        return -ENOMEM;
    out->n_protocols = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        out->protocols[i].name = kr_string(r, flex);
        out->protocols[i].metadata = kr_bytes(r, flex);
        kr_skip_tags(r, flex);
    }
    if (v >= 8)
        out->reason = kr_nstring(r, flex);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_joingroup_req_encode(kafka_writer *w, int16_t v, const kafka_joingroup_req *in) {
    bool flex = v >= JG_FLEX_FROM;
    kw_str(w, flex, in->group_id);
    kw_i32(w, in->session_timeout_ms);
    if (v >= 1)
        kw_i32(w, in->rebalance_timeout_ms);
    kw_str(w, flex, in->member_id);
    if (v >= 5)
        kw_str(w, flex, in->group_instance_id);
    kw_str(w, flex, in->protocol_type);
    kw_array(w, flex, in->n_protocols);
    for (int32_t i = 0; i < in->n_protocols; i++) {
        kw_str(w, flex, in->protocols[i].name);
        kw_bytes(w, flex, in->protocols[i].metadata.ptr, in->protocols[i].metadata.len);
        kw_tags_empty(w, flex);
    }
    if (v >= 8)
        kw_str(w, flex, in->reason);
    kw_tags_empty(w, flex);
}

static int decode_members(kafka_reader *r, int16_t v, arena *a, kafka_joingroup_resp *out) {
    bool flex = v >= JG_FLEX_FROM;
    size_t min = MIN_STR(flex) + (v >= 5 ? MIN_STR(flex) : 0) + MIN_BYTES(flex) + MIN_TAGS(flex);
    int32_t n = kr_count(r, flex, min, false);
    if (n > 0 && !(out->members = arena_calloc(a, (size_t)n, sizeof *out->members)))
        return -ENOMEM;
    out->n_members = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_joingroup_member *m = &out->members[i];
        m->member_id = kr_string(r, flex);
        m->group_instance_id = v >= 5 ? kr_nstring(r, flex) : (kafka_str){NULL, -1};
        m->metadata = kr_bytes(r, flex);
        kr_skip_tags(r, flex);
    }
    return 0;
}

int kafka_joingroup_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_joingroup_resp *out) {
    bool flex = v >= JG_FLEX_FROM;
    *out = (kafka_joingroup_resp){.generation_id = -1, .protocol_type = {NULL, -1}};
    if (v < 0 || v > JG_MAX_VERSION)
        return -EBADMSG;
    if (v >= 2)
        out->throttle_time_ms = kr_i32(r);
    out->error_code = kr_i16(r);
    out->generation_id = kr_i32(r);
    if (v >= 7)
        out->protocol_type = kr_nstring(r, flex);
    out->protocol_name = v >= 7 ? kr_nstring(r, flex) : kr_string(r, flex);
    out->leader = kr_string(r, flex);
    if (v >= 9)
        out->skip_assignment = kr_bool(r);
    out->member_id = kr_string(r, flex);
    int rc = decode_members(r, v, a, out);
    if (rc < 0)
        return rc;
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_joingroup_resp_encode(kafka_writer *w, int16_t v, const kafka_joingroup_resp *in) {
    bool flex = v >= JG_FLEX_FROM;
    if (v >= 2)
        kw_i32(w, in->throttle_time_ms);
    kw_i16(w, in->error_code);
    kw_i32(w, in->generation_id);
    if (v >= 7)
        kw_str(w, flex, in->protocol_type);
    kw_str(w, flex, in->protocol_name);
    kw_str(w, flex, in->leader);
    if (v >= 9)
        kw_bool(w, in->skip_assignment);
    kw_str(w, flex, in->member_id);
    kw_array(w, flex, in->n_members);
    for (int32_t i = 0; i < in->n_members; i++) {
        const kafka_joingroup_member *m = &in->members[i];
        kw_str(w, flex, m->member_id);
        if (v >= 5)
            kw_str(w, flex, m->group_instance_id);
        kw_bytes(w, flex, m->metadata.ptr, m->metadata.len);
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
