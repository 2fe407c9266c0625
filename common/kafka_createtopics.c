#include "kafka_createtopics.h"

#include <errno.h>

#define CREATETOPICS_MAX_VERSION 7
#define CREATETOPICS_FLEX_FROM 5

static const kafka_str empty_str = {"", 0};



static int decode_topic(kafka_reader *r, bool flex, arena *a, kafka_createtopics_topic *t) {
    t->name = kr_string(r, flex);
    t->num_partitions = kr_i32(r);
    t->replication_factor = kr_i16(r);
    /* partition index + broker id count */
    int32_t n = kr_count(r, flex, flex ? 6 : 8, false);
    if (!ARENA_ALLOC_N(a, t->assignments, n))
        return -ENOMEM;
    t->n_assignments = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_createtopics_assignment *as = &t->assignments[i];
        as->partition_index = kr_i32(r);
        int32_t nb = kr_count(r, flex, 4, false);
        if (!ARENA_ALLOC_N(a, as->broker_ids, nb))
            return -ENOMEM;
        as->n_broker_ids = nb;
        for (int32_t j = 0; j < nb; j++)
            as->broker_ids[j] = kr_i32(r);
        kr_skip_tags(r, flex);
    }
    /* name + value */
    n = kr_count(r, flex, flex ? 3 : 4, false);
    if (!ARENA_ALLOC_N(a, t->configs, n))
        return -ENOMEM;
    t->n_configs = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        t->configs[i].name = kr_string(r, flex);
        t->configs[i].value = kr_nstring(r, flex);
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return 0;
}

int kafka_createtopics_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_createtopics_req *out) {
    *out = (kafka_createtopics_req){.timeout_ms = 60000};
    if (v < 0 || v > CREATETOPICS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= CREATETOPICS_FLEX_FROM;
    /* name, partitions, replication, two array counts */
    int32_t n = kr_count(r, flex, flex ? 9 : 16, false);
    if (!ARENA_ALLOC_N(a, out->topics, n))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        if (decode_topic(r, flex, a, &out->topics[i]) < 0)
            return -ENOMEM;
    out->timeout_ms = kr_i32(r);
    if (v >= 1)
        out->validate_only = kr_bool(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_createtopics_req_encode(kafka_writer *w, int16_t v, const kafka_createtopics_req *in) {
    bool flex = v >= CREATETOPICS_FLEX_FROM;
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_createtopics_topic *t = &in->topics[i];
        kw_str(w, flex, t->name);
        kw_i32(w, t->num_partitions);
        kw_i16(w, t->replication_factor);
        kw_array(w, flex, t->n_assignments);
        for (int32_t j = 0; j < t->n_assignments; j++) {
            kw_i32(w, t->assignments[j].partition_index);
            kw_array(w, flex, t->assignments[j].n_broker_ids);
            for (int32_t k = 0; k < t->assignments[j].n_broker_ids; k++)
                kw_i32(w, t->assignments[j].broker_ids[k]);
            kw_tags_empty(w, flex);
        }
        kw_array(w, flex, t->n_configs);
        for (int32_t j = 0; j < t->n_configs; j++) {
            kw_str(w, flex, t->configs[j].name);
            kw_str(w, flex, t->configs[j].value);
            kw_tags_empty(w, flex);
        }
        kw_tags_empty(w, flex);
    }
    kw_i32(w, in->timeout_ms);
    if (v >= 1)
        kw_bool(w, in->validate_only);
    kw_tags_empty(w, flex);
}

/* Tag 0 of a result (v5+): TopicConfigErrorCode. */
static void decode_result_tags(kafka_reader *r, bool flex, kafka_createtopics_result *t) {
    uint32_t nt = kr_tag_count(r, flex);
    for (uint32_t i = 0; i < nt && kr_ok(r); i++) {
        uint32_t tag;
        kafka_reader sub = kr_tag_next(r, &tag);
        if (tag != 0)
            continue;
        t->topic_config_error_code = kr_i16(&sub);
        if (!kr_ok(&sub))
            kr_fail(r);
    }
}

static int decode_result(kafka_reader *r, int16_t v, arena *a, kafka_createtopics_result *t) {
    bool flex = v >= CREATETOPICS_FLEX_FROM;
    t->name = kr_string(r, flex);
    if (v >= 7)
        t->topic_id = kr_uuid(r);
    t->error_code = kr_i16(r);
    t->error_message = v >= 1 ? kr_nstring(r, flex) : empty_str;
    t->num_partitions = -1;
    t->replication_factor = -1;
    if (v >= 5) {
        t->num_partitions = kr_i32(r);
        t->replication_factor = kr_i16(r);
        /* name, value, three one-byte fields, tags */
        int32_t n = kr_count(r, flex, 6, true);
        if (!ARENA_ALLOC_N(a, t->configs, n))
            return -ENOMEM;
        t->n_configs = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++) {
            kafka_createtopics_result_config *c = &t->configs[i];
            c->name = kr_string(r, flex);
            c->value = kr_nstring(r, flex);
            c->read_only = kr_bool(r);
            c->config_source = kr_i8(r);
            c->is_sensitive = kr_bool(r);
            kr_skip_tags(r, flex);
        }
    }
    decode_result_tags(r, flex, t);
    return 0;
}

int kafka_createtopics_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_createtopics_resp *out) {
    *out = (kafka_createtopics_resp){0};
    if (v < 0 || v > CREATETOPICS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= CREATETOPICS_FLEX_FROM;
    if (v >= 2)
        out->throttle_time_ms = kr_i32(r);
    /* name + error code */
    int32_t n = kr_count(r, flex, 4, false);
    if (!ARENA_ALLOC_N(a, out->topics, n))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        if (decode_result(r, v, a, &out->topics[i]) < 0)
            return -ENOMEM;
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

static void encode_result(kafka_writer *w, int16_t v, const kafka_createtopics_result *t) {
    bool flex = v >= CREATETOPICS_FLEX_FROM;
    kw_str(w, flex, t->name);
    if (v >= 7)
        kw_uuid(w, &t->topic_id);
    kw_i16(w, t->error_code);
    if (v >= 1)
        kw_str(w, flex, t->error_message);
    if (v >= 5) {
        kw_i32(w, t->num_partitions);
        kw_i16(w, t->replication_factor);
        kw_array(w, flex, t->n_configs);
        for (int32_t i = 0; i < t->n_configs; i++) {
            const kafka_createtopics_result_config *c = &t->configs[i];
            kw_str(w, flex, c->name);
            kw_str(w, flex, c->value);
            kw_bool(w, c->read_only);
            kw_i8(w, c->config_source);
            kw_bool(w, c->is_sensitive);
            kw_tags_empty(w, flex);
        }
    }
    /* the tagged field is written only when it differs from its default */
    if (flex && t->topic_config_error_code != 0) {
        kw_uvarint(w, 1);
        kw_uvarint(w, 0);
        kw_uvarint(w, 2);
        kw_i16(w, t->topic_config_error_code);
    } else {
        kw_tags_empty(w, flex);
    }
}

void kafka_createtopics_resp_encode(kafka_writer *w, int16_t v, const kafka_createtopics_resp *in) {
    bool flex = v >= CREATETOPICS_FLEX_FROM;
    if (v >= 2)
        kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++)
        encode_result(w, v, &in->topics[i]);
    kw_tags_empty(w, flex);
}
