#include "kafka_syncgroup.h"

#include <errno.h>

#define SG_MAX_VERSION 5
#define SG_FLEX_FROM 4

/* Smallest encodings, for kr_array() bounds: string length int16 / bytes
 * length int32 (one-byte varints when flexible), tag section one byte. */
#define MIN_STR(flex) ((flex) ? 1u : 2u)
#define MIN_BYTES(flex) ((flex) ? 1u : 4u)
#define MIN_TAGS(flex) ((flex) ? 1u : 0u)

int kafka_syncgroup_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_syncgroup_req *out) {
    bool flex = v >= SG_FLEX_FROM;
    *out = (kafka_syncgroup_req){.group_instance_id = {NULL, -1},
                                 .protocol_type = {NULL, -1},
                                 .protocol_name = {NULL, -1}};
    if (v < 0 || v > SG_MAX_VERSION)
        return -EBADMSG;
    out->group_id = kr_string(r, flex);
    out->generation_id = kr_i32(r);
    out->member_id = kr_string(r, flex);
    if (v >= 3)
        out->group_instance_id = kr_nstring(r, flex);
    if (v >= 5) {
        out->protocol_type = kr_nstring(r, flex);
        out->protocol_name = kr_nstring(r, flex);
    }
    int32_t n = kr_count(r, flex, MIN_STR(flex) + MIN_BYTES(flex) + MIN_TAGS(flex), false);
    if (n > 0 && !(out->assignments = arena_calloc(a, (size_t)n, sizeof *out->assignments)))
        return -ENOMEM;
    out->n_assignments = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        out->assignments[i].member_id = kr_string(r, flex);
        out->assignments[i].assignment = kr_bytes(r, flex);
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_syncgroup_req_encode(kafka_writer *w, int16_t v, const kafka_syncgroup_req *in) {
    bool flex = v >= SG_FLEX_FROM;
    kw_str(w, flex, in->group_id);
    kw_i32(w, in->generation_id);
    kw_str(w, flex, in->member_id);
    if (v >= 3)
        kw_str(w, flex, in->group_instance_id);
    if (v >= 5) {
        kw_str(w, flex, in->protocol_type);
        kw_str(w, flex, in->protocol_name);
    }
    kw_array(w, flex, in->n_assignments);
    for (int32_t i = 0; i < in->n_assignments; i++) {
        const kafka_syncgroup_assignment *s = &in->assignments[i];
        kw_str(w, flex, s->member_id);
        kw_bytes(w, flex, s->assignment.ptr, s->assignment.len);
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}

int kafka_syncgroup_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_syncgroup_resp *out) {
    (void)a;
    bool flex = v >= SG_FLEX_FROM;
    *out = (kafka_syncgroup_resp){.protocol_type = {NULL, -1}, .protocol_name = {NULL, -1}};
    if (v < 0 || v > SG_MAX_VERSION)
        return -EBADMSG;
    if (v >= 1)
        out->throttle_time_ms = kr_i32(r);
    out->error_code = kr_i16(r);
    if (v >= 5) {
        out->protocol_type = kr_nstring(r, flex);
        out->protocol_name = kr_nstring(r, flex);
    }
    out->assignment = kr_bytes(r, flex);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_syncgroup_resp_encode(kafka_writer *w, int16_t v, const kafka_syncgroup_resp *in) {
    bool flex = v >= SG_FLEX_FROM;
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    kw_i16(w, in->error_code);
    if (v >= 5) {
        kw_str(w, flex, in->protocol_type);
        kw_str(w, flex, in->protocol_name);
    }
    kw_bytes(w, flex, in->assignment.ptr, in->assignment.len);
    kw_tags_empty(w, flex);
}
