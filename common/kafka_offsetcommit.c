#include "kafka_offsetcommit.h"

#include <errno.h>

#define OC_MAX_VERSION 9
#define OC_FLEX_FROM 8

/* Smallest encodings, for kr_array() bounds: string length int16 / array
 * count int32 (one-byte varints when flexible), tag section one byte. */
#define MIN_STR(flex) ((flex) ? 1u : 2u)
#define MIN_ARR(flex) ((flex) ? 1u : 4u)
#define MIN_TAGS(flex) ((flex) ? 1u : 0u)

static int decode_req_partitions(kafka_reader *r, int16_t v, arena *a, kafka_offsetcommit_req_topic *t) {
    bool flex = v >= OC_FLEX_FROM;
    /* index, offset, leader epoch (v6+), timestamp (v1), metadata, tags */
    size_t min = 4 + 8 + (v >= 6 ? 4 : 0) + (v == 1 ? 8 : 0) + MIN_STR(flex) + MIN_TAGS(flex);
    int32_t n = kr_count(r, flex, min, false);
    if (n > 0 && !(t->partitions = arena_calloc(a, (size_t)n, sizeof *t->partitions)))
        return -ENOMEM;
    t->n_partitions = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_offsetcommit_req_partition *p = &t->partitions[i];
        p->partition_index = kr_i32(r);
        p->committed_offset = kr_i64(r);
        p->committed_leader_epoch = v >= 6 ? kr_i32(r) : -1;
        p->commit_timestamp = v == 1 ? kr_i64(r) : -1;
        p->committed_metadata = kr_nstring(r, flex);
        kr_skip_tags(r, flex);
    }
    return 0;
}

int kafka_offsetcommit_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_offsetcommit_req *out) {
    bool flex = v >= OC_FLEX_FROM;
    *out = (kafka_offsetcommit_req){.generation_id_or_member_epoch = -1,
                                    .member_id = {"", 0},
                                    .group_instance_id = {NULL, -1},
                                    .retention_time_ms = -1};
    if (v < 0 || v > OC_MAX_VERSION)
        return -EBADMSG;
    out->group_id = kr_string(r, flex);
    if (v >= 1) {
        out->generation_id_or_member_epoch = kr_i32(r);
        out->member_id = kr_string(r, flex);
    }
    if (v >= 7)
        out->group_instance_id = kr_nstring(r, flex);
    if (v >= 2 && v <= 4)
        out->retention_time_ms = kr_i64(r);
    int32_t n = kr_count(r, flex, MIN_STR(flex) + MIN_ARR(flex) + MIN_TAGS(flex), false);
    if (n > 0 && !(out->topics = arena_calloc(a, (size_t)n, sizeof *out->topics)))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        out->topics[i].name = kr_string(r, flex);
        int rc = decode_req_partitions(r, v, a, &out->topics[i]);
        if (rc < 0)
            return rc;
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_offsetcommit_req_encode(kafka_writer *w, int16_t v, const kafka_offsetcommit_req *in) {
    bool flex = v >= OC_FLEX_FROM;
    kw_str(w, flex, in->group_id);
    if (v >= 1) {
        kw_i32(w, in->generation_id_or_member_epoch);
        kw_str(w, flex, in->member_id);
    }
    if (v >= 7)
        kw_str(w, flex, in->group_instance_id);
    if (v >= 2 && v <= 4)
        kw_i64(w, in->retention_time_ms);
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_offsetcommit_req_topic *t = &in->topics[i];
        kw_str(w, flex, t->name);
        kw_array(w, flex, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const kafka_offsetcommit_req_partition *p = &t->partitions[j];
            kw_i32(w, p->partition_index);
            kw_i64(w, p->committed_offset);
            if (v >= 6)
                kw_i32(w, p->committed_leader_epoch);
            if (v == 1)
                kw_i64(w, p->commit_timestamp);
            kw_str(w, flex, p->committed_metadata);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}

int kafka_offsetcommit_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_offsetcommit_resp *out) {
    bool flex = v >= OC_FLEX_FROM;
    *out = (kafka_offsetcommit_resp){0};
    if (v < 0 || v > OC_MAX_VERSION)
        return -EBADMSG;
    if (v >= 3)
        out->throttle_time_ms = kr_i32(r);
    int32_t n = kr_count(r, flex, MIN_STR(flex) + MIN_ARR(flex) + MIN_TAGS(flex), false);
    if (n > 0 && !(out->topics = arena_calloc(a, (size_t)n, sizeof *out->topics)))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_offsetcommit_resp_topic *t = &out->topics[i];
        t->name = kr_string(r, flex);
        int32_t np = kr_count(r, flex, 4 + 2 + MIN_TAGS(flex), false);
        if (np > 0 && !(t->partitions = arena_calloc(a, (size_t)np, sizeof *t->partitions)))
            return -ENOMEM;
        t->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++) {
            t->partitions[j].partition_index = kr_i32(r);
            t->partitions[j].error_code = kr_i16(r);
            kr_skip_tags(r, flex);
        }
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_offsetcommit_resp_encode(kafka_writer *w, int16_t v, const kafka_offsetcommit_resp *in) {
    bool flex = v >= OC_FLEX_FROM;
    if (v >= 3)
        kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_offsetcommit_resp_topic *t = &in->topics[i];
        kw_str(w, flex, t->name);
        kw_array(w, flex, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            kw_i32(w, t->partitions[j].partition_index);
            kw_i16(w, t->partitions[j].error_code);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
