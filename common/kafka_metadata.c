#include "kafka_metadata.h"

#include <errno.h>

#define METADATA_MAX_VERSION 12
#define METADATA_FLEX_FROM 9

static const kafka_str null_str = {NULL, -1};



static int read_i32_array(kafka_reader *r, bool flex, arena *a, int32_t **out, int32_t *n_out) {
    int32_t n = kr_count(r, flex, 4, false);
    if (!ARENA_ALLOC_N(a, *out, n))
        return -ENOMEM;
    *n_out = n;
    for (int32_t i = 0; i < n; i++)
        (*out)[i] = kr_i32(r);
    return 0;
}

static void write_i32_array(kafka_writer *w, bool flex, const int32_t *v, int32_t n) {
    kw_array(w, flex, n);
    for (int32_t i = 0; i < n; i++)
        kw_i32(w, v[i]);
}

int kafka_metadata_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_metadata_req *out) {
    *out = (kafka_metadata_req){.allow_auto_topic_creation = true};
    if (v < 0 || v > METADATA_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= METADATA_FLEX_FROM;
    /* a topic is a name (and an id from v10) */
    int32_t n = kr_count(r, flex, v >= 10 ? 18 : 2, v >= 1);
    if (!ARENA_ALLOC_N(a, out->topics, n))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        if (v >= 10) {
            out->topics[i].topic_id = kr_uuid(r);
            out->topics[i].name = kr_nstring(r, flex);
        } else {
            out->topics[i].name = kr_string(r, flex);
        }
        kr_skip_tags(r, flex);
    }
    if (v >= 4)
        out->allow_auto_topic_creation = kr_bool(r);
    if (v >= 8 && v <= 10)
        out->include_cluster_authorized_operations = kr_bool(r);
    if (v >= 8)
        out->include_topic_authorized_operations = kr_bool(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_metadata_req_encode(kafka_writer *w, int16_t v, const kafka_metadata_req *in) {
    bool flex = v >= METADATA_FLEX_FROM;
    kw_array(w, flex, v == 0 && in->n_topics < 0 ? 0 : in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        if (v >= 10)
            kw_uuid(w, &in->topics[i].topic_id);
        kw_str(w, flex, in->topics[i].name);
        kw_tags_empty(w, flex);
    }
    if (v >= 4)
        kw_bool(w, in->allow_auto_topic_creation);
    if (v >= 8 && v <= 10)
        kw_bool(w, in->include_cluster_authorized_operations);
    if (v >= 8)
        kw_bool(w, in->include_topic_authorized_operations);
    kw_tags_empty(w, flex);
}

static int decode_partition(kafka_reader *r, int16_t v, arena *a, kafka_metadata_partition *p) {
    bool flex = v >= METADATA_FLEX_FROM;
    p->error_code = kr_i16(r);
    p->partition_index = kr_i32(r);
    p->leader_id = kr_i32(r);
    p->leader_epoch = v >= 7 ? kr_i32(r) : -1;
    if (read_i32_array(r, flex, a, &p->replica_nodes, &p->n_replica_nodes) < 0 ||
        read_i32_array(r, flex, a, &p->isr_nodes, &p->n_isr_nodes) < 0)
        return -ENOMEM;
    if (v >= 5 && read_i32_array(r, flex, a, &p->offline_replicas, &p->n_offline_replicas) < 0)
        return -ENOMEM;
    kr_skip_tags(r, flex);
    return 0;
}

static int decode_topic(kafka_reader *r, int16_t v, arena *a, kafka_metadata_topic *t) {
    bool flex = v >= METADATA_FLEX_FROM;
    t->error_code = kr_i16(r);
    t->name = v >= 12 ? kr_nstring(r, flex) : kr_string(r, flex);
    if (v >= 10)
        t->topic_id = kr_uuid(r);
    if (v >= 1)
        t->is_internal = kr_bool(r);
    /* error, index, leader, two node arrays */
    int32_t n = kr_count(r, flex, flex ? 12 : 18, false);
    if (!ARENA_ALLOC_N(a, t->partitions, n))
        return -ENOMEM;
    t->n_partitions = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        if (decode_partition(r, v, a, &t->partitions[i]) < 0)
            return -ENOMEM;
    t->topic_authorized_operations = v >= 8 ? kr_i32(r) : INT32_MIN;
    kr_skip_tags(r, flex);
    return 0;
}

int kafka_metadata_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_metadata_resp *out) {
    *out = (kafka_metadata_resp){
        .cluster_id = null_str, .controller_id = -1, .cluster_authorized_operations = INT32_MIN,
    };
    if (v < 0 || v > METADATA_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= METADATA_FLEX_FROM;
    if (v >= 3)
        out->throttle_time_ms = kr_i32(r);
    /* node id, host, port */
    int32_t n = kr_count(r, flex, flex ? 9 : 10, false);
    if (!ARENA_ALLOC_N(a, out->brokers, n))
        return -ENOMEM;
    out->n_brokers = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_metadata_broker *b = &out->brokers[i];
        b->node_id = kr_i32(r);
        b->host = kr_string(r, flex);
        b->port = kr_i32(r);
        b->rack = v >= 1 ? kr_nstring(r, flex) : null_str;
        kr_skip_tags(r, flex);
    }
    if (v >= 2)
        out->cluster_id = kr_nstring(r, flex);
    if (v >= 1)
        out->controller_id = kr_i32(r);
    /* error code, name, partition count */
    n = kr_count(r, flex, flex ? 4 : 8, false);
    if (!ARENA_ALLOC_N(a, out->topics, n))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        if (decode_topic(r, v, a, &out->topics[i]) < 0)
            return -ENOMEM;
    if (v >= 8 && v <= 10)
        out->cluster_authorized_operations = kr_i32(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

static void encode_topic(kafka_writer *w, int16_t v, const kafka_metadata_topic *t) {
    bool flex = v >= METADATA_FLEX_FROM;
    kw_i16(w, t->error_code);
    kw_str(w, flex, t->name);
    if (v >= 10)
        kw_uuid(w, &t->topic_id);
    if (v >= 1)
        kw_bool(w, t->is_internal);
    kw_array(w, flex, t->n_partitions);
    for (int32_t i = 0; i < t->n_partitions; i++) {
        const kafka_metadata_partition *p = &t->partitions[i];
        kw_i16(w, p->error_code);
        kw_i32(w, p->partition_index);
        kw_i32(w, p->leader_id);
        if (v >= 7)
            kw_i32(w, p->leader_epoch);
        write_i32_array(w, flex, p->replica_nodes, p->n_replica_nodes);
        write_i32_array(w, flex, p->isr_nodes, p->n_isr_nodes);
        if (v >= 5)
            write_i32_array(w, flex, p->offline_replicas, p->n_offline_replicas);
        kw_tags_empty(w, flex);
    }
    if (v >= 8)
        kw_i32(w, t->topic_authorized_operations);
    kw_tags_empty(w, flex);
}

void kafka_metadata_resp_encode(kafka_writer *w, int16_t v, const kafka_metadata_resp *in) {
    bool flex = v >= METADATA_FLEX_FROM;
    if (v >= 3)
        kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_brokers);
    for (int32_t i = 0; i < in->n_brokers; i++) {
        const kafka_metadata_broker *b = &in->brokers[i];
        kw_i32(w, b->node_id);
        kw_str(w, flex, b->host);
        kw_i32(w, b->port);
        if (v >= 1)
            kw_str(w, flex, b->rack);
        kw_tags_empty(w, flex);
    }
    if (v >= 2)
        kw_str(w, flex, in->cluster_id);
    if (v >= 1)
        kw_i32(w, in->controller_id);
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++)
        encode_topic(w, v, &in->topics[i]);
    if (v >= 8 && v <= 10)
        kw_i32(w, in->cluster_authorized_operations);
    kw_tags_empty(w, flex);
}
