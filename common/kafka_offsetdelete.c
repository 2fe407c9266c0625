#include "kafka_offsetdelete.h"

#include <errno.h>

#define OD_MAX_VERSION 0

/* No version of OffsetDelete is flexible. */
#define OD_FLEX false

/* Count of a non-nullable array: null is malformed, as Kafka itself says. */
static int32_t arr_count(kafka_reader *r, size_t min_elem) {
    int32_t n = kr_array(r, OD_FLEX, min_elem);
    if (n < 0) {
        kr_fail(r);
        return 0;
    }
    return n;
}

int kafka_offsetdelete_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_offsetdelete_req *out) {
    *out = (kafka_offsetdelete_req){0};
    if (v < 0 || v > OD_MAX_VERSION)
        return -EBADMSG;
    out->group_id = kr_string(r, OD_FLEX);
    /* a topic is at least a name length and a partition count */
    int32_t n = arr_count(r, 2 + 4);
    if (n > 0 && !(out->topics = arena_calloc(a, (size_t)n, sizeof *out->topics)))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_offsetdelete_req_topic *t = &out->topics[i];
        t->name = kr_string(r, OD_FLEX);
        int32_t np = arr_count(r, 4);
        if (np > 0 && !(t->partitions = arena_calloc(a, (size_t)np, sizeof *t->partitions)))
            return -ENOMEM;
        t->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++)
            t->partitions[j] = kr_i32(r);
    }
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_offsetdelete_req_encode(kafka_writer *w, int16_t v, const kafka_offsetdelete_req *in) {
    (void)v;
    kw_str(w, OD_FLEX, in->group_id);
    kw_array(w, OD_FLEX, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_offsetdelete_req_topic *t = &in->topics[i];
        kw_str(w, OD_FLEX, t->name);
        kw_array(w, OD_FLEX, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++)
            kw_i32(w, t->partitions[j]);
    }
}

int kafka_offsetdelete_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_offsetdelete_resp *out) {
    *out = (kafka_offsetdelete_resp){0};
    if (v < 0 || v > OD_MAX_VERSION)
        return -EBADMSG;
    out->error_code = kr_i16(r);
    out->throttle_time_ms = kr_i32(r);
    int32_t n = arr_count(r, 2 + 4);
    if (n > 0 && !(out->topics = arena_calloc(a, (size_t)n, sizeof *out->topics)))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_offsetdelete_resp_topic *t = &out->topics[i];
        t->name = kr_string(r, OD_FLEX);
        /* partition index and error code */
        int32_t np = arr_count(r, 4 + 2);
        if (np > 0 && !(t->partitions = arena_calloc(a, (size_t)np, sizeof *t->partitions)))
            return -ENOMEM;
        t->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++) {
            t->partitions[j].partition_index = kr_i32(r);
            t->partitions[j].error_code = kr_i16(r);
        }
    }
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_offsetdelete_resp_encode(kafka_writer *w, int16_t v, const kafka_offsetdelete_resp *in) {
    (void)v;
    kw_i16(w, in->error_code);
    kw_i32(w, in->throttle_time_ms);
    kw_array(w, OD_FLEX, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_offsetdelete_resp_topic *t = &in->topics[i];
        kw_str(w, OD_FLEX, t->name);
        kw_array(w, OD_FLEX, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            kw_i32(w, t->partitions[j].partition_index);
            kw_i16(w, t->partitions[j].error_code);
        }
    }
}
