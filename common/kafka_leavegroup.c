#include "kafka_leavegroup.h"

#include <errno.h>

#define LG_MAX_VERSION 5
#define LG_FLEX_FROM 4

/* Smallest encodings, for kr_array() bounds: string length int16 (one-byte
 * varint when flexible), tag section one byte. */
#define MIN_STR(flex) ((flex) ? 1u : 2u)
#define MIN_TAGS(flex) ((flex) ? 1u : 0u)

int kafka_leavegroup_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_leavegroup_req *out) {
    bool flex = v >= LG_FLEX_FROM;
    *out = (kafka_leavegroup_req){.member_id = {"", 0}};
    if (v < 0 || v > LG_MAX_VERSION)
        return -EBADMSG;
    out->group_id = kr_string(r, flex);
    if (v <= 2) {
        out->member_id = kr_string(r, flex);
    } else {
        size_t min = 2 * MIN_STR(flex) + (v >= 5 ? MIN_STR(flex) : 0) + MIN_TAGS(flex);
        int32_t n = kr_count(r, flex, min, false);
        if (n > 0 && !(out->members = arena_calloc(a, (size_t)n, sizeof *out->members)))
            return -ENOMEM;
        out->n_members = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++) {
            kafka_leavegroup_member *m = &out->members[i];
            m->member_id = kr_string(r, flex);
            m->group_instance_id = kr_nstring(r, flex);
            m->reason = v >= 5 ? kr_nstring(r, flex) : (kafka_str){NULL, -1};
            kr_skip_tags(r, flex);
        }
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_leavegroup_req_encode(kafka_writer *w, int16_t v, const kafka_leavegroup_req *in) {
    bool flex = v >= LG_FLEX_FROM;
    kw_str(w, flex, in->group_id);
    if (v <= 2) {
        kw_str(w, flex, in->member_id);
    } else {
        kw_array(w, flex, in->n_members);
        for (int32_t i = 0; i < in->n_members; i++) {
            kw_str(w, flex, in->members[i].member_id);
            kw_str(w, flex, in->members[i].group_instance_id);
            if (v >= 5)
                kw_str(w, flex, in->members[i].reason);
            kw_tags_empty(w, flex);
        }
    }
    kw_tags_empty(w, flex);
}

int kafka_leavegroup_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_leavegroup_resp *out) {
    bool flex = v >= LG_FLEX_FROM;
    *out = (kafka_leavegroup_resp){0};
    if (v < 0 || v > LG_MAX_VERSION)
        return -EBADMSG;
    if (v >= 1)
        out->throttle_time_ms = kr_i32(r);
    out->error_code = kr_i16(r);
    if (v >= 3) {
        int32_t n = kr_count(r, flex, 2 * MIN_STR(flex) + 2 + MIN_TAGS(flex), false);
        if (n > 0 && !(out->members = arena_calloc(a, (size_t)n, sizeof *out->members)))
            return -ENOMEM;
        out->n_members = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++) {
            kafka_leavegroup_member_resp *m = &out->members[i];
            m->member_id = kr_string(r, flex);
            m->group_instance_id = kr_nstring(r, flex);
            m->error_code = kr_i16(r);
            kr_skip_tags(r, flex);
        }
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_leavegroup_resp_encode(kafka_writer *w, int16_t v, const kafka_leavegroup_resp *in) {
    bool flex = v >= LG_FLEX_FROM;
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    kw_i16(w, in->error_code);
    if (v >= 3) {
        kw_array(w, flex, in->n_members);
        for (int32_t i = 0; i < in->n_members; i++) {
            kw_str(w, flex, in->members[i].member_id);
            kw_str(w, flex, in->members[i].group_instance_id);
            kw_i16(w, in->members[i].error_code);
            kw_tags_empty(w, flex);
        }
    }
    kw_tags_empty(w, flex);
}
