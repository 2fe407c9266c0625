#include "kafka_offsetforleaderepoch.h"

#include <errno.h>

#define OFLE_MAX_VERSION 4
#define OFLE_FLEX_FROM 4


int kafka_offsetforleaderepoch_req_decode(kafka_reader *r, int16_t v, arena *a,
                                          kafka_offsetforleaderepoch_req *out) {
    *out = (kafka_offsetforleaderepoch_req){.replica_id = -2};
    if (v < 0 || v > OFLE_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= OFLE_FLEX_FROM;
    if (v >= 3)
        out->replica_id = kr_i32(r);
    int32_t nt = kr_count(r, flex, flex ? 3 : 6, false);
    if (!ARENA_ALLOC_N(a, out->topics, nt))
        return -ENOMEM;
    out->n_topics = nt;
    for (int32_t i = 0; i < nt && kr_ok(r); i++) {
        kafka_offsetforleaderepoch_topic *t = &out->topics[i];
        t->topic = kr_string(r, flex);
        /* partition + leader epoch */
        int32_t np = kr_count(r, flex, 8, false);
        if (!ARENA_ALLOC_N(a, t->partitions, np))
            return -ENOMEM;
        t->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++) {
            kafka_offsetforleaderepoch_partition *p = &t->partitions[j];
            p->partition = kr_i32(r);
            p->current_leader_epoch = v >= 2 ? kr_i32(r) : -1;
            p->leader_epoch = kr_i32(r);
            kr_skip_tags(r, flex);
        }
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_offsetforleaderepoch_req_encode(kafka_writer *w, int16_t v,
                                           const kafka_offsetforleaderepoch_req *in) {
    bool flex = v >= OFLE_FLEX_FROM;
    if (v >= 3)
        kw_i32(w, in->replica_id);
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_offsetforleaderepoch_topic *t = &in->topics[i];
        kw_str(w, flex, t->topic);
        kw_array(w, flex, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            kw_i32(w, t->partitions[j].partition);
            if (v >= 2)
                kw_i32(w, t->partitions[j].current_leader_epoch);
            kw_i32(w, t->partitions[j].leader_epoch);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}

int kafka_offsetforleaderepoch_resp_decode(kafka_reader *r, int16_t v, arena *a,
                                           kafka_offsetforleaderepoch_resp *out) {
    *out = (kafka_offsetforleaderepoch_resp){0};
    if (v < 0 || v > OFLE_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= OFLE_FLEX_FROM;
    if (v >= 2)
        out->throttle_time_ms = kr_i32(r);
    int32_t nt = kr_count(r, flex, flex ? 3 : 6, false);
    if (!ARENA_ALLOC_N(a, out->topics, nt))
        return -ENOMEM;
    out->n_topics = nt;
    for (int32_t i = 0; i < nt && kr_ok(r); i++) {
        kafka_offsetforleaderepoch_topic_resp *t = &out->topics[i];
        t->topic = kr_string(r, flex);
        /* error code, partition, end offset */
        int32_t np = kr_count(r, flex, 14, false);
        if (!ARENA_ALLOC_N(a, t->partitions, np))
            return -ENOMEM;
        t->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++) {
            kafka_offsetforleaderepoch_partition_resp *p = &t->partitions[j];
            p->error_code = kr_i16(r);
            p->partition = kr_i32(r);
            p->leader_epoch = v >= 1 ? kr_i32(r) : -1;
            p->end_offset = kr_i64(r);
            kr_skip_tags(r, flex);
        }
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_offsetforleaderepoch_resp_encode(kafka_writer *w, int16_t v,
                                            const kafka_offsetforleaderepoch_resp *in) {
    bool flex = v >= OFLE_FLEX_FROM;
    if (v >= 2)
        kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_offsetforleaderepoch_topic_resp *t = &in->topics[i];
        kw_str(w, flex, t->topic);
        kw_array(w, flex, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++) {
            const kafka_offsetforleaderepoch_partition_resp *p = &t->partitions[j];
            kw_i16(w, p->error_code);
            kw_i32(w, p->partition);
            if (v >= 1)
                kw_i32(w, p->leader_epoch);
            kw_i64(w, p->end_offset);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
