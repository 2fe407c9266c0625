#include "kafka_createpartitions.h"

#include <errno.h>

#define CREATEPARTITIONS_MAX_VERSION 3
#define CREATEPARTITIONS_FLEX_FROM 2



static int decode_topic(kafka_reader *r, bool flex, arena *a, kafka_createpartitions_topic *t) {
    t->name = kr_string(r, flex);
    t->count = kr_i32(r);
    /* a broker id count */
    int32_t n = kr_count(r, flex, flex ? 2 : 4, true);
    if (!ARENA_ALLOC_N(a, t->assignments, n))
        return -ENOMEM;
    t->n_assignments = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_createpartitions_assignment *as = &t->assignments[i];
        int32_t nb = kr_count(r, flex, 4, false);
        if (!ARENA_ALLOC_N(a, as->broker_ids, nb))
            return -ENOMEM;
        as->n_broker_ids = nb;
        for (int32_t j = 0; j < nb; j++)
            as->broker_ids[j] = kr_i32(r);
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return 0;
}

int kafka_createpartitions_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_createpartitions_req *out) {
    *out = (kafka_createpartitions_req){0};
    if (v < 0 || v > CREATEPARTITIONS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= CREATEPARTITIONS_FLEX_FROM;
    /* name, count, assignment count */
    int32_t n = kr_count(r, flex, flex ? 7 : 10, false);
    if (!ARENA_ALLOC_N(a, out->topics, n))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        if (decode_topic(r, flex, a, &out->topics[i]) < 0)
            return -ENOMEM;
    out->timeout_ms = kr_i32(r);
    out->validate_only = kr_bool(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_createpartitions_req_encode(kafka_writer *w, int16_t v, const kafka_createpartitions_req *in) {
    bool flex = v >= CREATEPARTITIONS_FLEX_FROM;
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_createpartitions_topic *t = &in->topics[i];
        kw_str(w, flex, t->name);
        kw_i32(w, t->count);
        kw_array(w, flex, t->n_assignments);
        for (int32_t j = 0; j < t->n_assignments; j++) {
            kw_array(w, flex, t->assignments[j].n_broker_ids);
            for (int32_t k = 0; k < t->assignments[j].n_broker_ids; k++)
                kw_i32(w, t->assignments[j].broker_ids[k]);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    kw_i32(w, in->timeout_ms);
    kw_bool(w, in->validate_only);
    kw_tags_empty(w, flex);
}

int kafka_createpartitions_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_createpartitions_resp *out) {
    *out = (kafka_createpartitions_resp){0};
    if (v < 0 || v > CREATEPARTITIONS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= CREATEPARTITIONS_FLEX_FROM;
    out->throttle_time_ms = kr_i32(r);
    /* name, error code, message */
    int32_t n = kr_count(r, flex, flex ? 5 : 6, false);
    if (!ARENA_ALLOC_N(a, out->results, n))
        return -ENOMEM;
    out->n_results = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        out->results[i].name = kr_string(r, flex);
        out->results[i].error_code = kr_i16(r);
        out->results[i].error_message = kr_nstring(r, flex);
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_createpartitions_resp_encode(kafka_writer *w, int16_t v, const kafka_createpartitions_resp *in) {
    bool flex = v >= CREATEPARTITIONS_FLEX_FROM;
    kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_results);
    for (int32_t i = 0; i < in->n_results; i++) {
        kw_str(w, flex, in->results[i].name);
        kw_i16(w, in->results[i].error_code);
        kw_str(w, flex, in->results[i].error_message);
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
