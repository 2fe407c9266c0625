#include "kafka_describegroups.h"

#include <errno.h>

#define DG_MAX_VERSION 5
#define DG_FLEX_FROM 5

/* Smallest encodings, for kr_array() bounds: string length int16 / bytes
 * length int32 / array count int32 (one-byte varints when flexible), tag
 * section one byte. */
#define MIN_STR(flex) ((flex) ? 1u : 2u)
#define MIN_BYTES(flex) ((flex) ? 1u : 4u)
#define MIN_ARR(flex) ((flex) ? 1u : 4u)
#define MIN_TAGS(flex) ((flex) ? 1u : 0u)

int kafka_describegroups_req_decode(kafka_reader *r, int16_t v, arena *a,
                                    kafka_describegroups_req *out) {
    bool flex = v >= DG_FLEX_FROM;
    *out = (kafka_describegroups_req){0};
    if (v < 0 || v > DG_MAX_VERSION)
        return -EBADMSG;
    int32_t n = kr_count(r, flex, MIN_STR(flex), false);
    if (n > 0 && !(out->groups = arena_calloc(a, (size_t)n, sizeof *out->groups)))
        return -ENOMEM;
    out->n_groups = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        out->groups[i] = kr_string(r, flex);
    if (v >= 3)
        out->include_authorized_operations = kr_bool(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_describegroups_req_encode(kafka_writer *w, int16_t v, const kafka_describegroups_req *in) {
    bool flex = v >= DG_FLEX_FROM;
    kw_array(w, flex, in->n_groups);
    for (int32_t i = 0; i < in->n_groups; i++)
        kw_str(w, flex, in->groups[i]);
    if (v >= 3)
        kw_bool(w, in->include_authorized_operations);
    kw_tags_empty(w, flex);
}

static int decode_members(kafka_reader *r, int16_t v, arena *a, kafka_describegroups_group *g) {
    bool flex = v >= DG_FLEX_FROM;
    size_t min = 3 * MIN_STR(flex) + (v >= 4 ? MIN_STR(flex) : 0) + 2 * MIN_BYTES(flex) +
                 MIN_TAGS(flex);
    int32_t n = kr_count(r, flex, min, false);
    if (n > 0 && !(g->members = arena_calloc(a, (size_t)n, sizeof *g->members)))
        return -ENOMEM;
    g->n_members = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_describegroups_member *m = &g->members[i];
        m->member_id = kr_string(r, flex);
        m->group_instance_id = v >= 4 ? kr_nstring(r, flex) : (kafka_str){NULL, -1};
        m->client_id = kr_string(r, flex);
        m->client_host = kr_string(r, flex);
        m->member_metadata = kr_bytes(r, flex);
        m->member_assignment = kr_bytes(r, flex);
        kr_skip_tags(r, flex);
    }
    return 0;
}

int kafka_describegroups_resp_decode(kafka_reader *r, int16_t v, arena *a,
                                     kafka_describegroups_resp *out) {
    bool flex = v >= DG_FLEX_FROM;
    *out = (kafka_describegroups_resp){0};
    if (v < 0 || v > DG_MAX_VERSION)
        return -EBADMSG;
    if (v >= 1)
        out->throttle_time_ms = kr_i32(r);
    /* error code, four strings, members array, authorized ops, tags */
    size_t min = 2 + 4 * MIN_STR(flex) + MIN_ARR(flex) + (v >= 3 ? 4 : 0) + MIN_TAGS(flex);
    int32_t n = kr_count(r, flex, min, false);
    if (n > 0 && !(out->groups = arena_calloc(a, (size_t)n, sizeof *out->groups)))
        return -ENOMEM;
    out->n_groups = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_describegroups_group *g = &out->groups[i];
        g->error_code = kr_i16(r);
        g->group_id = kr_string(r, flex);
        g->group_state = kr_string(r, flex);
        g->protocol_type = kr_string(r, flex);
        g->protocol_data = kr_string(r, flex);
        int rc = decode_members(r, v, a, g);
        if (rc < 0)
            return rc;
        g->authorized_operations = v >= 3 ? kr_i32(r) : INT32_MIN;
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_describegroups_resp_encode(kafka_writer *w, int16_t v, const kafka_describegroups_resp *in) {
    bool flex = v >= DG_FLEX_FROM;
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_groups);
    for (int32_t i = 0; i < in->n_groups; i++) {
        const kafka_describegroups_group *g = &in->groups[i];
        kw_i16(w, g->error_code);
        kw_str(w, flex, g->group_id);
        kw_str(w, flex, g->group_state);
        kw_str(w, flex, g->protocol_type);
        kw_str(w, flex, g->protocol_data);
        kw_array(w, flex, g->n_members);
        for (int32_t j = 0; j < g->n_members; j++) {
            const kafka_describegroups_member *m = &g->members[j];
            kw_str(w, flex, m->member_id);
            if (v >= 4)
                kw_str(w, flex, m->group_instance_id);
            kw_str(w, flex, m->client_id);
            kw_str(w, flex, m->client_host);
            kw_bytes(w, flex, m->member_metadata.ptr, m->member_metadata.len);
            kw_bytes(w, flex, m->member_assignment.ptr, m->member_assignment.len);
            kw_tags_empty(w, flex);
        }
        if (v >= 3)
            kw_i32(w, g->authorized_operations);
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
