#include "kafka_listgroups.h"

#include <errno.h>

#define LS_MAX_VERSION 5
#define LS_FLEX_FROM 3

/* Smallest encodings, for kr_array() bounds: string length int16 (one-byte
 * varint when flexible), tag section one byte. */
#define MIN_STR(flex) ((flex) ? 1u : 2u)
#define MIN_TAGS(flex) ((flex) ? 1u : 0u)

/* Read a non-nullable []string into the arena; null is malformed. */
static int read_strings(kafka_reader *r, bool flex, arena *a, kafka_str **out, int32_t *n_out) {
    int32_t n = kr_array(r, flex, MIN_STR(flex));
    if (n < 0) {
        kr_fail(r);
        n = 0;
    }
    *out = NULL;
    *n_out = n;
    if (n > 0 && !(*out = arena_calloc(a, (size_t)n, sizeof **out)))
        return -ENOMEM;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        (*out)[i] = kr_string(r, flex);
    return 0;
}

static void write_strings(kafka_writer *w, bool flex, const kafka_str *s, int32_t n) {
    kw_array(w, flex, n);
    for (int32_t i = 0; i < n; i++)
        kw_str(w, flex, s[i]);
}

int kafka_listgroups_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_listgroups_req *out) {
    bool flex = v >= LS_FLEX_FROM;
    *out = (kafka_listgroups_req){0};
    if (v < 0 || v > LS_MAX_VERSION)
        return -EBADMSG;
    int rc = 0;
    if (v >= 4)
        rc = read_strings(r, flex, a, &out->states_filter, &out->n_states_filter);
    if (rc == 0 && v >= 5)
        rc = read_strings(r, flex, a, &out->types_filter, &out->n_types_filter);
    if (rc < 0)
        return rc;
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_listgroups_req_encode(kafka_writer *w, int16_t v, const kafka_listgroups_req *in) {
    bool flex = v >= LS_FLEX_FROM;
    if (v >= 4)
        write_strings(w, flex, in->states_filter, in->n_states_filter);
    if (v >= 5)
        write_strings(w, flex, in->types_filter, in->n_types_filter);
    kw_tags_empty(w, flex);
}

int kafka_listgroups_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_listgroups_resp *out) {
    bool flex = v >= LS_FLEX_FROM;
    *out = (kafka_listgroups_resp){0};
    if (v < 0 || v > LS_MAX_VERSION)
        return -EBADMSG;
    if (v >= 1)
        out->throttle_time_ms = kr_i32(r);
    out->error_code = kr_i16(r);
    size_t min = 2 * MIN_STR(flex) + (v >= 4 ? MIN_STR(flex) : 0) + (v >= 5 ? MIN_STR(flex) : 0) +
                 MIN_TAGS(flex);
    int32_t n = kr_array(r, flex, min);
    if (n < 0) {
        kr_fail(r);
        n = 0;
    }
    if (n > 0 && !(out->groups = arena_calloc(a, (size_t)n, sizeof *out->groups)))
        return -ENOMEM;
    out->n_groups = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_listgroups_group *g = &out->groups[i];
        g->group_id = kr_string(r, flex);
        g->protocol_type = kr_string(r, flex);
        g->group_state = v >= 4 ? kr_string(r, flex) : (kafka_str){"", 0};
        g->group_type = v >= 5 ? kr_string(r, flex) : (kafka_str){"", 0};
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_listgroups_resp_encode(kafka_writer *w, int16_t v, const kafka_listgroups_resp *in) {
    bool flex = v >= LS_FLEX_FROM;
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    kw_i16(w, in->error_code);
    kw_array(w, flex, in->n_groups);
    for (int32_t i = 0; i < in->n_groups; i++) {
        const kafka_listgroups_group *g = &in->groups[i];
        kw_str(w, flex, g->group_id);
        kw_str(w, flex, g->protocol_type);
        if (v >= 4)
            kw_str(w, flex, g->group_state);
        if (v >= 5)
            kw_str(w, flex, g->group_type);
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
