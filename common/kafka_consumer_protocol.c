#include "kafka_consumer_protocol.h"

#include <errno.h>

/* These formats are never flexible: int16 string lengths, int32 counts. */
#define CP_FLEX false

/* Read a []TopicPartition (topic name, []int32). Null is malformed. */
static int decode_topic_partitions(kafka_reader *r, arena *a, kafka_consumer_topic_partitions **out,
                                   int32_t *n_out) {
    int32_t n = kr_array(r, CP_FLEX, 2 + 4);   /* name length + partition count */
    if (n < 0) {
        kr_fail(r);
        n = 0;
    }
    *n_out = n;
    if (n > 0 && !(*out = arena_calloc(a, (size_t)n, sizeof **out)))
        return -ENOMEM;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_consumer_topic_partitions *tp = &(*out)[i];
        tp->topic = kr_string(r, CP_FLEX);
        int32_t np = kr_array(r, CP_FLEX, 4);
        if (np < 0) {
            kr_fail(r);
            np = 0;
        }
        if (np > 0 && !(tp->partitions = arena_calloc(a, (size_t)np, sizeof(int32_t))))
            return -ENOMEM;
        tp->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++)
            tp->partitions[j] = kr_i32(r);
    }
    return 0;
}

static void encode_topic_partitions(kafka_writer *w, const kafka_consumer_topic_partitions *tps,
                                    int32_t n) {
    kw_array(w, CP_FLEX, n);
    for (int32_t i = 0; i < n; i++) {
        kw_str(w, CP_FLEX, tps[i].topic);
        kw_array(w, CP_FLEX, tps[i].n_partitions);
        for (int32_t j = 0; j < tps[i].n_partitions; j++)
            kw_i32(w, tps[i].partitions[j]);
    }
}

/* Fields of a version newer than ours follow the ones we know; skip them so
 * that the caller sees the whole metadata consumed. */
static void skip_newer(kafka_reader *r, int16_t version) {
    if (version > KAFKA_CONSUMER_PROTOCOL_MAX_VERSION && kr_ok(r))
        (void)kr_raw(r, kr_remaining(r));
}

int kafka_consumer_subscription_decode(kafka_reader *r, arena *a, kafka_consumer_subscription *out) {
    *out = (kafka_consumer_subscription){.user_data = {NULL, -1},
                                         .generation_id = -1,
                                         .rack_id = {NULL, -1}};
    int16_t v = kr_i16(r);
    if (!kr_ok(r) || v < 0)
        return -EBADMSG;
    out->version = v;
    int32_t n = kr_array(r, CP_FLEX, 2);
    if (n < 0) {
        kr_fail(r);
        n = 0;
    }
    if (n > 0 && !(out->topics = arena_calloc(a, (size_t)n, sizeof *out->topics)))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        out->topics[i] = kr_string(r, CP_FLEX);
    out->user_data = kr_nbytes(r, CP_FLEX);
    if (v >= 1) {
        int rc = decode_topic_partitions(r, a, &out->owned_partitions, &out->n_owned_partitions);
        if (rc < 0)
            return rc;
    }
    if (v >= 2)
        out->generation_id = kr_i32(r);
    if (v >= 3)
        out->rack_id = kr_nstring(r, CP_FLEX);
    skip_newer(r, v);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_consumer_subscription_encode(kafka_writer *w, int16_t v, const kafka_consumer_subscription *in) {
    kw_i16(w, v);
    kw_array(w, CP_FLEX, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++)
        kw_str(w, CP_FLEX, in->topics[i]);
    kw_bytes(w, CP_FLEX, in->user_data.ptr, in->user_data.len);
    if (v >= 1)
        encode_topic_partitions(w, in->owned_partitions, in->n_owned_partitions);
    if (v >= 2)
        kw_i32(w, in->generation_id);
    if (v >= 3)
        kw_str(w, CP_FLEX, in->rack_id);
}

int kafka_consumer_assignment_decode(kafka_reader *r, arena *a, kafka_consumer_assignment *out) {
    *out = (kafka_consumer_assignment){.user_data = {NULL, -1}};
    int16_t v = kr_i16(r);
    if (!kr_ok(r) || v < 0)
        return -EBADMSG;
    out->version = v;
    int rc = decode_topic_partitions(r, a, &out->assigned_partitions, &out->n_assigned_partitions);
    if (rc < 0)
        return rc;
    out->user_data = kr_nbytes(r, CP_FLEX);
    skip_newer(r, v);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_consumer_assignment_encode(kafka_writer *w, int16_t v, const kafka_consumer_assignment *in) {
    kw_i16(w, v);
    encode_topic_partitions(w, in->assigned_partitions, in->n_assigned_partitions);
    kw_bytes(w, CP_FLEX, in->user_data.ptr, in->user_data.len);
}
