#include "kafka_produce.h"

#include <errno.h>

#define PRODUCE_MAX_VERSION 11
#define PRODUCE_FLEX_FROM 9

static const kafka_str null_str = {NULL, -1};




int kafka_produce_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_produce_req *out) {
    *out = (kafka_produce_req){.transactional_id = null_str};
    if (v < 0 || v > PRODUCE_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= PRODUCE_FLEX_FROM;
    if (v >= 3)
        out->transactional_id = kr_nstring(r, flex);
    out->acks = kr_i16(r);
    out->timeout_ms = kr_i32(r);
    /* a topic is at least a name and a partition count */
    int32_t nt = kr_count(r, flex, flex ? 3 : 6, false);
    if (!ARENA_ALLOC_N(a, out->topic_data, nt))
        return -ENOMEM;
    out->n_topic_data = nt;
    for (int32_t i = 0; i < nt && kr_ok(r); i++) {
        kafka_produce_topic *t = &out->topic_data[i];
        t->name = kr_string(r, flex);
        /* index + records length */
        int32_t np = kr_count(r, flex, flex ? 6 : 8, false);
        if (!ARENA_ALLOC_N(a, t->partition_data, np))
            return -ENOMEM;
        t->n_partition_data = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++) {
            t->partition_data[j].index = kr_i32(r);
            t->partition_data[j].records = kr_nbytes(r, flex);
            kr_skip_tags(r, flex);
        }
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_produce_req_encode(kafka_writer *w, int16_t v, const kafka_produce_req *in) {
    bool flex = v >= PRODUCE_FLEX_FROM;
    if (v >= 3)
        kw_str(w, flex, in->transactional_id);
    kw_i16(w, in->acks);
    kw_i32(w, in->timeout_ms);
    kw_array(w, flex, in->n_topic_data);
    for (int32_t i = 0; i < in->n_topic_data; i++) {
        const kafka_produce_topic *t = &in->topic_data[i];
        kw_str(w, flex, t->name);
        kw_array(w, flex, t->n_partition_data);
        for (int32_t j = 0; j < t->n_partition_data; j++) {
            kw_i32(w, t->partition_data[j].index);
            kw_bytes(w, flex, t->partition_data[j].records.ptr, t->partition_data[j].records.len);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}

/* Tagged fields of a response partition: tag 0 is CurrentLeader (v10+). */
static void decode_partition_tags(kafka_reader *r, int16_t v, bool flex, kafka_produce_partition_resp *p) {
    uint32_t n = kr_tag_count(r, flex);
    for (uint32_t i = 0; i < n && kr_ok(r); i++) {
        uint32_t tag;
        kafka_reader sub = kr_tag_next(r, &tag);
        if (tag != 0 || v < 10)
            continue;
        p->current_leader.leader_id = kr_i32(&sub);
        p->current_leader.leader_epoch = kr_i32(&sub);
        kr_skip_tags(&sub, true);
        if (!kr_ok(&sub))
            kr_fail(r);
    }
}

static int decode_partition_resp(kafka_reader *r, int16_t v, arena *a, kafka_produce_partition_resp *p) {
    bool flex = v >= PRODUCE_FLEX_FROM;
    p->index = kr_i32(r);
    p->error_code = kr_i16(r);
    p->base_offset = kr_i64(r);
    p->log_append_time_ms = v >= 2 ? kr_i64(r) : -1;
    p->log_start_offset = v >= 5 ? kr_i64(r) : -1;
    p->error_message = null_str;
    p->current_leader = (kafka_produce_leader){-1, -1};
    if (v >= 8) {
        /* batch index + message length */
        int32_t n = kr_count(r, flex, 6, false);
        if (!ARENA_ALLOC_N(a, p->record_errors, n))
            return -ENOMEM;
        p->n_record_errors = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++) {
            p->record_errors[i].batch_index = kr_i32(r);
            p->record_errors[i].batch_index_error_message = kr_nstring(r, flex);
            kr_skip_tags(r, flex);
        }
        p->error_message = kr_nstring(r, flex);
    }
    decode_partition_tags(r, v, flex, p);
    return 0;
}

int kafka_produce_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_produce_resp *out) {
    *out = (kafka_produce_resp){0};
    if (v < 0 || v > PRODUCE_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= PRODUCE_FLEX_FROM;
    int32_t nt = kr_count(r, flex, flex ? 3 : 6, false);
    if (!ARENA_ALLOC_N(a, out->responses, nt))
        return -ENOMEM;
    out->n_responses = nt;
    for (int32_t i = 0; i < nt && kr_ok(r); i++) {
        kafka_produce_topic_resp *t = &out->responses[i];
        t->name = kr_string(r, flex);
        /* index, error code, base offset */
        int32_t np = kr_count(r, flex, 14, false);
        if (!ARENA_ALLOC_N(a, t->partition_responses, np))
            return -ENOMEM;
        t->n_partition_responses = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++)
            if (decode_partition_resp(r, v, a, &t->partition_responses[j]) < 0)
                return -ENOMEM;
        kr_skip_tags(r, flex);
    }
    if (v >= 1)
        out->throttle_time_ms = kr_i32(r);
    uint32_t ntags = kr_tag_count(r, flex);
    for (uint32_t i = 0; i < ntags && kr_ok(r); i++) {
        uint32_t tag;
        kafka_reader sub = kr_tag_next(r, &tag);
        if (tag != 0 || v < 10)
            continue;
        if (kafka_node_endpoints_decode(&sub, a, &out->node_endpoints, &out->n_node_endpoints) < 0)
            return -ENOMEM;
        if (!kr_ok(&sub))
            kr_fail(r);
    }
    return kr_ok(r) ? 0 : -EBADMSG;
}

static void encode_partition_resp(kafka_writer *w, int16_t v, const kafka_produce_partition_resp *p) {
    bool flex = v >= PRODUCE_FLEX_FROM;
    kw_i32(w, p->index);
    kw_i16(w, p->error_code);
    kw_i64(w, p->base_offset);
    if (v >= 2)
        kw_i64(w, p->log_append_time_ms);
    if (v >= 5)
        kw_i64(w, p->log_start_offset);
    if (v >= 8) {
        kw_array(w, flex, p->n_record_errors);
        for (int32_t i = 0; i < p->n_record_errors; i++) {
            kw_i32(w, p->record_errors[i].batch_index);
            kw_str(w, flex, p->record_errors[i].batch_index_error_message);
            kw_tags_empty(w, flex);
        }
        kw_str(w, flex, p->error_message);
    }
    /* a tagged field is written only when it differs from its default */
    if (v >= 10 && (p->current_leader.leader_id != -1 || p->current_leader.leader_epoch != -1)) {
        kw_uvarint(w, 1);
        kw_uvarint(w, 0);
        kw_uvarint(w, 9); /* two int32 and an empty tag section */
        kw_i32(w, p->current_leader.leader_id);
        kw_i32(w, p->current_leader.leader_epoch);
        kw_tags_empty(w, true);
    } else {
        kw_tags_empty(w, flex);
    }
}

void kafka_produce_resp_encode(kafka_writer *w, int16_t v, const kafka_produce_resp *in) {
    bool flex = v >= PRODUCE_FLEX_FROM;
    kw_array(w, flex, in->n_responses);
    for (int32_t i = 0; i < in->n_responses; i++) {
        const kafka_produce_topic_resp *t = &in->responses[i];
        kw_str(w, flex, t->name);
        kw_array(w, flex, t->n_partition_responses);
        for (int32_t j = 0; j < t->n_partition_responses; j++)
            encode_partition_resp(w, v, &t->partition_responses[j]);
        kw_tags_empty(w, flex);
    }
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    if (v >= 10 && in->n_node_endpoints > 0)
        kafka_node_endpoints_write_tags(w, in->node_endpoints, in->n_node_endpoints);
    else
        kw_tags_empty(w, flex);
}
