#include "kafka_deletegroups.h"

#include <errno.h>

#define DL_MAX_VERSION 2
#define DL_FLEX_FROM 2

/* Smallest encodings, for kr_array() bounds: string length int16 (one-byte
 * varint when flexible), tag section one byte. */
#define MIN_STR(flex) ((flex) ? 1u : 2u)
#define MIN_TAGS(flex) ((flex) ? 1u : 0u)

int kafka_deletegroups_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_deletegroups_req *out) {
    bool flex = v >= DL_FLEX_FROM;
    *out = (kafka_deletegroups_req){0};
    if (v < 0 || v > DL_MAX_VERSION)
        return -EBADMSG;
    int32_t n = kr_count(r, flex, MIN_STR(flex), false);
    if (n > 0 && !(out->groups_names = arena_calloc(a, (size_t)n, sizeof *out->groups_names)))
        return -ENOMEM;
    out->n_groups_names = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        out->groups_names[i] = kr_string(r, flex);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_deletegroups_req_encode(kafka_writer *w, int16_t v, const kafka_deletegroups_req *in) {
    bool flex = v >= DL_FLEX_FROM;
    kw_array(w, flex, in->n_groups_names);
    for (int32_t i = 0; i < in->n_groups_names; i++)
        kw_str(w, flex, in->groups_names[i]);
    kw_tags_empty(w, flex);
}

int kafka_deletegroups_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_deletegroups_resp *out) {
    bool flex = v >= DL_FLEX_FROM;
    *out = (kafka_deletegroups_resp){0};
    if (v < 0 || v > DL_MAX_VERSION)
        return -EBADMSG;
    out->throttle_time_ms = kr_i32(r);
    int32_t n = kr_count(r, flex, MIN_STR(flex) + 2 + MIN_TAGS(flex), false);
    if (n > 0 && !(out->results = arena_calloc(a, (size_t)n, sizeof *out->results)))
        return -ENOMEM;
    out->n_results = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        out->results[i].group_id = kr_string(r, flex);
        out->results[i].error_code = kr_i16(r);
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_deletegroups_resp_encode(kafka_writer *w, int16_t v, const kafka_deletegroups_resp *in) {
    bool flex = v >= DL_FLEX_FROM;
    kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_results);
    for (int32_t i = 0; i < in->n_results; i++) {
        kw_str(w, flex, in->results[i].group_id);
        kw_i16(w, in->results[i].error_code);
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
