#include "kafka_describeproducers.h"

#include <errno.h>

#define DESCRIBEPRODUCERS_MAX_VERSION 0

/* Every version is flexible. Minimum encoded sizes, for kr_array's count
 * check: topic = name (1) + array (1) + tags (1); partition = 4 + 2 + 1 +
 * 1 + 1; producer = 8 + 4 + 4 + 8 + 4 + 8 + 1. */
#define MIN_TOPIC 3
#define MIN_PARTITION 9
#define MIN_PRODUCER 37

int kafka_describeproducers_req_decode(kafka_reader *r, int16_t v, arena *a,
                                       kafka_describeproducers_req *out) {
    *out = (kafka_describeproducers_req){0};
    if (v < 0 || v > DESCRIBEPRODUCERS_MAX_VERSION)
        return -EBADMSG;
    int32_t n = kr_array(r, true, MIN_TOPIC);
    if (n > 0) {
        out->topics = arena_calloc(a, (size_t)n, sizeof *out->topics);
        if (!out->topics)
            return -ENOMEM;
        out->n_topics = n;
    }
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_describeproducers_topic *t = &out->topics[i];
        t->name = kr_string(r, true);
        int32_t np = kr_array(r, true, 4);
        if (np > 0) {
            t->partition_indexes = arena_calloc(a, (size_t)np, sizeof *t->partition_indexes);
            if (!t->partition_indexes)
                return -ENOMEM;
            t->n_partition_indexes = np;
        }
        for (int32_t j = 0; j < np && kr_ok(r); j++)
            t->partition_indexes[j] = kr_i32(r);
        kr_skip_tags(r, true);
    }
    kr_skip_tags(r, true);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_describeproducers_req_encode(kafka_writer *w, int16_t v,
                                        const kafka_describeproducers_req *in) {
    (void)v;
    kw_array(w, true, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_describeproducers_topic *t = &in->topics[i];
        kw_str(w, true, t->name);
        kw_array(w, true, t->n_partition_indexes);
        for (int32_t j = 0; j < t->n_partition_indexes; j++)
            kw_i32(w, t->partition_indexes[j]);
        kw_tags_empty(w, true);
    }
    kw_tags_empty(w, true);
}

static int decode_partition(kafka_reader *r, arena *a, kafka_describeproducers_partition *p) {
    p->partition_index = kr_i32(r);
    p->error_code = kr_i16(r);
    p->error_message = kr_nstring(r, true);
    int32_t n = kr_array(r, true, MIN_PRODUCER);
    p->active_producers = NULL;
    p->n_active_producers = 0;
    if (n > 0) {
        p->active_producers = arena_calloc(a, (size_t)n, sizeof *p->active_producers);
        if (!p->active_producers)
            return -ENOMEM;
        p->n_active_producers = n;
    }
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_describeproducers_producer *q = &p->active_producers[i];
        q->producer_id = kr_i64(r);
        q->producer_epoch = kr_i32(r);
        q->last_sequence = kr_i32(r);
        q->last_timestamp = kr_i64(r);
        q->coordinator_epoch = kr_i32(r);
        q->current_txn_start_offset = kr_i64(r);
        kr_skip_tags(r, true);
    }
    kr_skip_tags(r, true);
    return 0;
}

int kafka_describeproducers_resp_decode(kafka_reader *r, int16_t v, arena *a,
                                        kafka_describeproducers_resp *out) {
    *out = (kafka_describeproducers_resp){0};
    if (v < 0 || v > DESCRIBEPRODUCERS_MAX_VERSION)
        return -EBADMSG;
    out->throttle_time_ms = kr_i32(r);
    int32_t n = kr_array(r, true, MIN_TOPIC);
    if (n > 0) {
        out->topics = arena_calloc(a, (size_t)n, sizeof *out->topics);
        if (!out->topics)
            return -ENOMEM;
        out->n_topics = n;
    }
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_describeproducers_topic_resp *t = &out->topics[i];
        t->name = kr_string(r, true);
        int32_t np = kr_array(r, true, MIN_PARTITION);
        if (np > 0) {
            t->partitions = arena_calloc(a, (size_t)np, sizeof *t->partitions);
            if (!t->partitions)
                return -ENOMEM;
            t->n_partitions = np;
        }
        for (int32_t j = 0; j < np && kr_ok(r); j++)
            if (decode_partition(r, a, &t->partitions[j]) < 0)
                return -ENOMEM;
        kr_skip_tags(r, true);
    }
    kr_skip_tags(r, true);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_describeproducers_resp_encode(kafka_writer *w, int16_t v,
                                         const kafka_describeproducers_resp *in) {
    (void)v;
    kw_i32(w, in->throttle_time_ms);
    kw_array(w, true, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_describeproducers_topic_resp *t = &in->topics[i];
        kw_str(w, true, t->name);
        kw_array(w, true, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const kafka_describeproducers_partition *p = &t->partitions[j];
            kw_i32(w, p->partition_index);
            kw_i16(w, p->error_code);
            kw_str(w, true, p->error_message);
            kw_array(w, true, p->n_active_producers);
            for (int32_t k = 0; k < p->n_active_producers; k++) {
                const kafka_describeproducers_producer *q = &p->active_producers[k];
                kw_i64(w, q->producer_id);
                kw_i32(w, q->producer_epoch);
                kw_i32(w, q->last_sequence);
                kw_i64(w, q->last_timestamp);
                kw_i32(w, q->coordinator_epoch);
                kw_i64(w, q->current_txn_start_offset);
                kw_tags_empty(w, true);
            }
            kw_tags_empty(w, true);
        }
        kw_tags_empty(w, true);
    }
    kw_tags_empty(w, true);
}
