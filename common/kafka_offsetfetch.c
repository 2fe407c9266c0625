#include "kafka_offsetfetch.h"

#include <errno.h>

#define OF_MAX_VERSION 9
#define OF_FLEX_FROM 6
#define OF_GROUPS_FROM 8   /* first version with the batched groups layout */

/* Smallest encodings, for kr_array() bounds: string length int16 / array
 * count int32 (one-byte varints when flexible), tag section one byte. */
#define MIN_STR(flex) ((flex) ? 1u : 2u)
#define MIN_ARR(flex) ((flex) ? 1u : 4u)
#define MIN_TAGS(flex) ((flex) ? 1u : 0u)

/* Topics of a request (both layouts share the element format). A null array
 * is kept as n == -1 where @p nullable, and is malformed elsewhere. */
static int decode_req_topics(kafka_reader *r, bool flex, bool nullable, arena *a,
                             kafka_offsetfetch_req_topic **topics, int32_t *n_topics) {
    int32_t n = kr_array(r, flex, MIN_STR(flex) + MIN_ARR(flex) + MIN_TAGS(flex));
    if (n < 0 && !nullable) {
        kr_fail(r);
        n = 0;
    }
    *n_topics = n;
    if (n > 0 && !(*topics = arena_calloc(a, (size_t)n, sizeof **topics)))
        return -ENOMEM;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_offsetfetch_req_topic *t = &(*topics)[i];
        t->name = kr_string(r, flex);
        int32_t np = kr_array(r, flex, 4);
        if (np < 0) {
            kr_fail(r);
            np = 0;
        }
        if (np > 0 && !(t->partition_indexes = arena_calloc(a, (size_t)np, sizeof(int32_t))))
            return -ENOMEM;
        t->n_partition_indexes = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++)
            t->partition_indexes[j] = kr_i32(r);
        kr_skip_tags(r, flex);
    }
    return 0;
}

static void encode_req_topics(kafka_writer *w, bool flex, bool nullable,
                              const kafka_offsetfetch_req_topic *topics, int32_t n) {
    /* v0-1 cannot say "all topics"; an empty list is the closest request */
    kw_array(w, flex, n < 0 && !nullable ? 0 : n);
    for (int32_t i = 0; i < n; i++) {
        kw_str(w, flex, topics[i].name);
        kw_array(w, flex, topics[i].n_partition_indexes);
        for (int32_t j = 0; j < topics[i].n_partition_indexes; j++)
            kw_i32(w, topics[i].partition_indexes[j]);
        kw_tags_empty(w, flex);
    }
}

/* v8+ groups; always flexible since OF_GROUPS_FROM > OF_FLEX_FROM. */
static int decode_req_groups(kafka_reader *r, int16_t v, arena *a, kafka_offsetfetch_req *out) {
    /* group id, member id (v9+), member epoch (v9+), topics, tags */
    int32_t n = kr_array(r, true, 1 + (v >= 9 ? 1 + 4 : 0) + 1 + 1);
    if (n < 0) {
        kr_fail(r);
        n = 0;
    }
    if (n > 0 && !(out->groups = arena_calloc(a, (size_t)n, sizeof *out->groups)))
        return -ENOMEM;
    out->n_groups = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_offsetfetch_req_group *g = &out->groups[i];
        g->group_id = kr_string(r, true);
        g->member_id = v >= 9 ? kr_nstring(r, true) : (kafka_str){NULL, -1};
        g->member_epoch = v >= 9 ? kr_i32(r) : -1;
        int rc = decode_req_topics(r, true, true, a, &g->topics, &g->n_topics);
        if (rc < 0)
            return rc;
        kr_skip_tags(r, true);
    }
    return 0;
}

int kafka_offsetfetch_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_offsetfetch_req *out) {
    bool flex = v >= OF_FLEX_FROM;
    *out = (kafka_offsetfetch_req){.group_id = {"", 0}};
    if (v < 0 || v > OF_MAX_VERSION)
        return -EBADMSG;
    int rc;
    if (v < OF_GROUPS_FROM) {
        out->group_id = kr_string(r, flex);
        rc = decode_req_topics(r, flex, v >= 2, a, &out->topics, &out->n_topics);
    } else {
        rc = decode_req_groups(r, v, a, out);
    }
    if (rc < 0)
        return rc;
    if (v >= 7)
        out->require_stable = kr_bool(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_offsetfetch_req_encode(kafka_writer *w, int16_t v, const kafka_offsetfetch_req *in) {
    bool flex = v >= OF_FLEX_FROM;
    if (v < OF_GROUPS_FROM) {
        kw_str(w, flex, in->group_id);
        encode_req_topics(w, flex, v >= 2, in->topics, in->n_topics);
    } else {
        kw_array(w, flex, in->n_groups);
        for (int32_t i = 0; i < in->n_groups; i++) {
            const kafka_offsetfetch_req_group *g = &in->groups[i];
            kw_str(w, flex, g->group_id);
            if (v >= 9) {
                kw_str(w, flex, g->member_id);
                kw_i32(w, g->member_epoch);
            }
            encode_req_topics(w, flex, true, g->topics, g->n_topics);
            kw_tags_empty(w, flex);
        }
    }
    if (v >= 7)
        kw_bool(w, in->require_stable);
    kw_tags_empty(w, flex);
}

/* Response topics of either layout: the leader epoch exists from v5 (and in
 * every v8+ group, as v8 > 5). */
static int decode_resp_topics(kafka_reader *r, int16_t v, arena *a,
                              kafka_offsetfetch_resp_topic **topics, int32_t *n_topics) {
    bool flex = v >= OF_FLEX_FROM;
    int32_t n = kr_array(r, flex, MIN_STR(flex) + MIN_ARR(flex) + MIN_TAGS(flex));
    if (n < 0) {
        kr_fail(r);
        n = 0;
    }
    *n_topics = n;
    if (n > 0 && !(*topics = arena_calloc(a, (size_t)n, sizeof **topics)))
        return -ENOMEM;
    /* index, offset, leader epoch (v5+), metadata, error code, tags */
    size_t pmin = 4 + 8 + (v >= 5 ? 4 : 0) + MIN_STR(flex) + 2 + MIN_TAGS(flex);
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_offsetfetch_resp_topic *t = &(*topics)[i];
        t->name = kr_string(r, flex);
        int32_t np = kr_array(r, flex, pmin);
        if (np < 0) {
            kr_fail(r);
            np = 0;
        }
        if (np > 0 && !(t->partitions = arena_calloc(a, (size_t)np, sizeof *t->partitions)))
            return -ENOMEM;
        t->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++) {
            kafka_offsetfetch_resp_partition *p = &t->partitions[j];
            p->partition_index = kr_i32(r);
            p->committed_offset = kr_i64(r);
            p->committed_leader_epoch = v >= 5 ? kr_i32(r) : -1;
            p->metadata = kr_nstring(r, flex);
            p->error_code = kr_i16(r);
            kr_skip_tags(r, flex);
        }
        kr_skip_tags(r, flex);
    }
    return 0;
}

static void encode_resp_topics(kafka_writer *w, int16_t v, const kafka_offsetfetch_resp_topic *topics,
                               int32_t n) {
    bool flex = v >= OF_FLEX_FROM;
    kw_array(w, flex, n);
    for (int32_t i = 0; i < n; i++) {
        kw_str(w, flex, topics[i].name);
        kw_array(w, flex, topics[i].n_partitions);
        for (int32_t j = 0; j < topics[i].n_partitions; j++) {
            const kafka_offsetfetch_resp_partition *p = &topics[i].partitions[j];
            kw_i32(w, p->partition_index);
            kw_i64(w, p->committed_offset);
            if (v >= 5)
                kw_i32(w, p->committed_leader_epoch);
            kw_str(w, flex, p->metadata);
            kw_i16(w, p->error_code);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
}

static int decode_resp_groups(kafka_reader *r, int16_t v, arena *a, kafka_offsetfetch_resp *out) {
    /* group id, topics, error code, tags (always flexible here) */
    int32_t n = kr_array(r, true, 1 + 1 + 2 + 1);
    if (n < 0) {
        kr_fail(r);
        n = 0;
    }
    if (n > 0 && !(out->groups = arena_calloc(a, (size_t)n, sizeof *out->groups)))
        return -ENOMEM;
    out->n_groups = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_offsetfetch_resp_group *g = &out->groups[i];
        g->group_id = kr_string(r, true);
        int rc = decode_resp_topics(r, v, a, &g->topics, &g->n_topics);
        if (rc < 0)
            return rc;
        g->error_code = kr_i16(r);
        kr_skip_tags(r, true);
    }
    return 0;
}

int kafka_offsetfetch_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_offsetfetch_resp *out) {
    bool flex = v >= OF_FLEX_FROM;
    *out = (kafka_offsetfetch_resp){0};
    if (v < 0 || v > OF_MAX_VERSION)
        return -EBADMSG;
    if (v >= 3)
        out->throttle_time_ms = kr_i32(r);
    int rc;
    if (v < OF_GROUPS_FROM) {
        rc = decode_resp_topics(r, v, a, &out->topics, &out->n_topics);
        if (v >= 2)
            out->error_code = kr_i16(r);
    } else {
        rc = decode_resp_groups(r, v, a, out);
    }
    if (rc < 0)
        return rc;
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_offsetfetch_resp_encode(kafka_writer *w, int16_t v, const kafka_offsetfetch_resp *in) {
    bool flex = v >= OF_FLEX_FROM;
    if (v >= 3)
        kw_i32(w, in->throttle_time_ms);
    if (v < OF_GROUPS_FROM) {
        encode_resp_topics(w, v, in->topics, in->n_topics);
        if (v >= 2)
            kw_i16(w, in->error_code);
    } else {
        kw_array(w, flex, in->n_groups);
        for (int32_t i = 0; i < in->n_groups; i++) {
            const kafka_offsetfetch_resp_group *g = &in->groups[i];
            kw_str(w, flex, g->group_id);
            encode_resp_topics(w, v, g->topics, g->n_topics);
            kw_i16(w, g->error_code);
            kw_tags_empty(w, flex);
        }
    }
    kw_tags_empty(w, flex);
}
