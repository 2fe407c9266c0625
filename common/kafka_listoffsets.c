#include "kafka_listoffsets.h"

#include <errno.h>

#define LISTOFFSETS_MAX_VERSION 10
#define LISTOFFSETS_FLEX_FROM 6


int kafka_listoffsets_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_listoffsets_req *out) {
    *out = (kafka_listoffsets_req){0};
    if (v < 0 || v > LISTOFFSETS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= LISTOFFSETS_FLEX_FROM;
    out->replica_id = kr_i32(r);
    if (v >= 2)
        out->isolation_level = kr_i8(r);
    int32_t nt = kr_count(r, flex, flex ? 3 : 6, false);
    if (!ARENA_ALLOC_N(a, out->topics, nt))
        return -ENOMEM;
    out->n_topics = nt;
    for (int32_t i = 0; i < nt && kr_ok(r); i++) {
        kafka_listoffsets_topic *t = &out->topics[i];
        t->name = kr_string(r, flex);
        /* partition index + timestamp */
        int32_t np = kr_count(r, flex, 12, false);
        if (!ARENA_ALLOC_N(a, t->partitions, np))
            return -ENOMEM;
        t->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++) {
            kafka_listoffsets_partition *p = &t->partitions[j];
            p->partition_index = kr_i32(r);
            p->current_leader_epoch = v >= 4 ? kr_i32(r) : -1;
            p->timestamp = kr_i64(r);
            p->max_num_offsets = v == 0 ? kr_i32(r) : 1;
            kr_skip_tags(r, flex);
        }
        kr_skip_tags(r, flex);
    }
    if (v >= 10)
        out->timeout_ms = kr_i32(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_listoffsets_req_encode(kafka_writer *w, int16_t v, const kafka_listoffsets_req *in) {
    bool flex = v >= LISTOFFSETS_FLEX_FROM;
    kw_i32(w, in->replica_id);
    if (v >= 2)
        kw_i8(w, in->isolation_level);
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_listoffsets_topic *t = &in->topics[i];
        kw_str(w, flex, t->name);
        kw_array(w, flex, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const kafka_listoffsets_partition *p = &t->partitions[j];
            kw_i32(w, p->partition_index);
            if (v >= 4)
                kw_i32(w, p->current_leader_epoch);
            kw_i64(w, p->timestamp);
            if (v == 0)
                kw_i32(w, p->max_num_offsets);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    if (v >= 10)
        kw_i32(w, in->timeout_ms);
    kw_tags_empty(w, flex);
}

static int decode_partition_resp(kafka_reader *r, int16_t v, arena *a, kafka_listoffsets_partition_resp *p) {
    bool flex = v >= LISTOFFSETS_FLEX_FROM;
    p->partition_index = kr_i32(r);
    p->error_code = kr_i16(r);
    if (v == 0) {
        int32_t n = kr_count(r, flex, 8, false);
        if (!ARENA_ALLOC_N(a, p->old_style_offsets, n))
            return -ENOMEM;
        p->n_old_style_offsets = n;
        for (int32_t i = 0; i < n; i++)
            p->old_style_offsets[i] = kr_i64(r);
    }
    p->timestamp = v >= 1 ? kr_i64(r) : -1;
    p->offset = v >= 1 ? kr_i64(r) : -1;
    p->leader_epoch = v >= 4 ? kr_i32(r) : -1;
    kr_skip_tags(r, flex);
    return 0;
}

int kafka_listoffsets_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_listoffsets_resp *out) {
    *out = (kafka_listoffsets_resp){0};
    if (v < 0 || v > LISTOFFSETS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= LISTOFFSETS_FLEX_FROM;
    if (v >= 2)
        out->throttle_time_ms = kr_i32(r);
    int32_t nt = kr_count(r, flex, flex ? 3 : 6, false);
    if (!ARENA_ALLOC_N(a, out->topics, nt))
        return -ENOMEM;
    out->n_topics = nt;
    for (int32_t i = 0; i < nt && kr_ok(r); i++) {
        kafka_listoffsets_topic_resp *t = &out->topics[i];
        t->name = kr_string(r, flex);
        /* index, error code, then offsets (an array count in v0, else 16) */
        int32_t np = kr_count(r, flex, 10, false);
        if (!ARENA_ALLOC_N(a, t->partitions, np))
            return -ENOMEM;
        t->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++)
            if (decode_partition_resp(r, v, a, &t->partitions[j]) < 0)
                return -ENOMEM;
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_listoffsets_resp_encode(kafka_writer *w, int16_t v, const kafka_listoffsets_resp *in) {
    bool flex = v >= LISTOFFSETS_FLEX_FROM;
    if (v >= 2)
        kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_listoffsets_topic_resp *t = &in->topics[i];
        kw_str(w, flex, t->name);
        kw_array(w, flex, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const kafka_listoffsets_partition_resp *p = &t->partitions[j];
            kw_i32(w, p->partition_index);
            kw_i16(w, p->error_code);
            if (v == 0) {
                kw_array(w, flex, p->n_old_style_offsets);
                for (int32_t k = 0; k < p->n_old_style_offsets; k++)
                    kw_i64(w, p->old_style_offsets[k]);
            }
            if (v >= 1) {
                kw_i64(w, p->timestamp);
                kw_i64(w, p->offset);
            }
            if (v >= 4)
                kw_i32(w, p->leader_epoch);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
