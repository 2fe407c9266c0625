#include "kafka_deletetopics.h"

#include <errno.h>

#define DELETETOPICS_MAX_VERSION 6
#define DELETETOPICS_FLEX_FROM 4

static const kafka_str null_str = {NULL, -1};


int kafka_deletetopics_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_deletetopics_req *out) {
    *out = (kafka_deletetopics_req){0};
    if (v < 0 || v > DELETETOPICS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= DELETETOPICS_FLEX_FROM;
    if (v >= 6) {
        /* name, uuid, tags */
        int32_t n = kr_count(r, flex, 18, false);
        if (!ARENA_ALLOC_N(a, out->topics, n))
            return -ENOMEM;
        out->n_topics = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++) {
            out->topics[i].name = kr_nstring(r, flex);
            out->topics[i].topic_id = kr_uuid(r);
            kr_skip_tags(r, flex);
        }
    } else {
        int32_t n = kr_count(r, flex, flex ? 1 : 2, false);
        if (!ARENA_ALLOC_N(a, out->topic_names, n))
            return -ENOMEM;
        out->n_topic_names = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++)
            out->topic_names[i] = kr_string(r, flex);
    }
    out->timeout_ms = kr_i32(r);
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_deletetopics_req_encode(kafka_writer *w, int16_t v, const kafka_deletetopics_req *in) {
    bool flex = v >= DELETETOPICS_FLEX_FROM;
    if (v >= 6) {
        kw_array(w, flex, in->n_topics);
        for (int32_t i = 0; i < in->n_topics; i++) {
            kw_str(w, flex, in->topics[i].name);
            kw_uuid(w, &in->topics[i].topic_id);
            kw_tags_empty(w, flex);
        }
    } else {
        kw_array(w, flex, in->n_topic_names);
        for (int32_t i = 0; i < in->n_topic_names; i++)
            kw_str(w, flex, in->topic_names[i]);
    }
    kw_i32(w, in->timeout_ms);
    kw_tags_empty(w, flex);
}

int kafka_deletetopics_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_deletetopics_resp *out) {
    *out = (kafka_deletetopics_resp){0};
    if (v < 0 || v > DELETETOPICS_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= DELETETOPICS_FLEX_FROM;
    if (v >= 1)
        out->throttle_time_ms = kr_i32(r);
    /* name + error code */
    int32_t n = kr_count(r, flex, flex ? 3 : 4, false);
    if (!ARENA_ALLOC_N(a, out->responses, n))
        return -ENOMEM;
    out->n_responses = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_deletetopics_result *t = &out->responses[i];
        t->name = v >= 6 ? kr_nstring(r, flex) : kr_string(r, flex);
        if (v >= 6)
            t->topic_id = kr_uuid(r);
        t->error_code = kr_i16(r);
        t->error_message = v >= 5 ? kr_nstring(r, flex) : null_str;
        kr_skip_tags(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_deletetopics_resp_encode(kafka_writer *w, int16_t v, const kafka_deletetopics_resp *in) {
    bool flex = v >= DELETETOPICS_FLEX_FROM;
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    kw_array(w, flex, in->n_responses);
    for (int32_t i = 0; i < in->n_responses; i++) {
        const kafka_deletetopics_result *t = &in->responses[i];
        kw_str(w, flex, t->name);
        if (v >= 6)
            kw_uuid(w, &t->topic_id);
        kw_i16(w, t->error_code);
        if (v >= 5)
            kw_str(w, flex, t->error_message);
        kw_tags_empty(w, flex);
    }
    kw_tags_empty(w, flex);
}
