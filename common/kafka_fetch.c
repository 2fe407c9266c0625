#include "kafka_fetch.h"

#include <errno.h>
#include <string.h>

#define FETCH_MAX_VERSION 17
#define FETCH_FLEX_FROM 12

static const kafka_str null_str = {NULL, -1};
static const kafka_str empty_str = {"", 0};




static bool uuid_is_zero(const kafka_uuid *u) {
    static const kafka_uuid zero;
    return memcmp(u->b, zero.b, sizeof zero.b) == 0;
}

/* A tagged field's own reader must hold the whole value. */
static void check_sub(kafka_reader *r, const kafka_reader *sub) {
    if (!kr_ok(sub))
        kr_fail(r);
}

/* ---- request ---- */

static void decode_partition(kafka_reader *r, int16_t v, kafka_fetch_partition *p) {
    bool flex = v >= FETCH_FLEX_FROM;
    p->partition = kr_i32(r);
    p->current_leader_epoch = v >= 9 ? kr_i32(r) : -1;
    p->fetch_offset = kr_i64(r);
    p->last_fetched_epoch = v >= 12 ? kr_i32(r) : -1;
    p->log_start_offset = v >= 5 ? kr_i64(r) : -1;
    p->partition_max_bytes = kr_i32(r);
    uint32_t nt = kr_tag_count(r, flex);
    for (uint32_t i = 0; i < nt && kr_ok(r); i++) {
        uint32_t tag;
        kafka_reader sub = kr_tag_next(r, &tag);
        if (tag == 0 && v >= 17) {
            p->replica_directory_id = kr_uuid(&sub);
            check_sub(r, &sub);
        }
    }
}

static int decode_topic(kafka_reader *r, int16_t v, arena *a, kafka_fetch_topic *t) {
    bool flex = v >= FETCH_FLEX_FROM;
    t->topic = empty_str;
    if (v <= 12)
        t->topic = kr_string(r, flex);
    else
        t->topic_id = kr_uuid(r);
    int32_t n = kr_count(r, flex, 16, false);
    if (!ARENA_ALLOC_N(a, t->partitions, n))
        return -ENOMEM;
    t->n_partitions = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        decode_partition(r, v, &t->partitions[i]);
    kr_skip_tags(r, flex);
    return 0;
}

static int decode_forgotten(kafka_reader *r, int16_t v, arena *a, kafka_fetch_forgotten_topic *t) {
    bool flex = v >= FETCH_FLEX_FROM;
    t->topic = empty_str;
    if (v <= 12)
        t->topic = kr_string(r, flex);
    else
        t->topic_id = kr_uuid(r);
    int32_t n = kr_count(r, flex, 4, false);
    if (!ARENA_ALLOC_N(a, t->partitions, n))
        return -ENOMEM;
    t->n_partitions = n;
    for (int32_t i = 0; i < n; i++)
        t->partitions[i] = kr_i32(r);
    kr_skip_tags(r, flex);
    return 0;
}

/* Top-level request tags: 0 ClusterId (v12+), 1 ReplicaState (v15+). */
static void decode_req_tags(kafka_reader *r, int16_t v, bool flex, kafka_fetch_req *out) {
    uint32_t nt = kr_tag_count(r, flex);
    for (uint32_t i = 0; i < nt && kr_ok(r); i++) {
        uint32_t tag;
        kafka_reader sub = kr_tag_next(r, &tag);
        if (tag == 0) {
            out->cluster_id = kr_nstring(&sub, true);
            check_sub(r, &sub);
        } else if (tag == 1 && v >= 15) {
            out->replica_state.replica_id = kr_i32(&sub);
            out->replica_state.replica_epoch = kr_i64(&sub);
            kr_skip_tags(&sub, true);
            check_sub(r, &sub);
        }
    }
}

int kafka_fetch_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_fetch_req *out) {
    *out = (kafka_fetch_req){
        .cluster_id = null_str, .replica_id = -1, .replica_state = {-1, -1},
        .max_bytes = INT32_MAX, .session_epoch = -1, .rack_id = empty_str,
    };
    if (v < 0 || v > FETCH_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= FETCH_FLEX_FROM;
    if (v <= 14)
        out->replica_id = kr_i32(r);
    out->max_wait_ms = kr_i32(r);
    out->min_bytes = kr_i32(r);
    if (v >= 3)
        out->max_bytes = kr_i32(r);
    if (v >= 4)
        out->isolation_level = kr_i8(r);
    if (v >= 7) {
        out->session_id = kr_i32(r);
        out->session_epoch = kr_i32(r);
    }
    /* a topic: name or uuid, then a partition count */
    size_t topic_min = v >= 13 ? 18 : flex ? 3 : 6;
    int32_t n = kr_count(r, flex, topic_min, false);
    if (!ARENA_ALLOC_N(a, out->topics, n))
        return -ENOMEM;
    out->n_topics = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++)
        if (decode_topic(r, v, a, &out->topics[i]) < 0)
            return -ENOMEM;
    if (v >= 7) {
        n = kr_count(r, flex, topic_min, false);
        if (!ARENA_ALLOC_N(a, out->forgotten_topics_data, n))
            return -ENOMEM;
        out->n_forgotten_topics_data = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++)
            if (decode_forgotten(r, v, a, &out->forgotten_topics_data[i]) < 0)
                return -ENOMEM;
    }
    if (v >= 11)
        out->rack_id = kr_string(r, flex);
    decode_req_tags(r, v, flex, out);
    return kr_ok(r) ? 0 : -EBADMSG;
}

static void encode_partition(kafka_writer *w, int16_t v, const kafka_fetch_partition *p) {
    bool flex = v >= FETCH_FLEX_FROM;
    kw_i32(w, p->partition);
    if (v >= 9)
        kw_i32(w, p->current_leader_epoch);
    kw_i64(w, p->fetch_offset);
    if (v >= 12)
        kw_i32(w, p->last_fetched_epoch);
    if (v >= 5)
        kw_i64(w, p->log_start_offset);
    kw_i32(w, p->partition_max_bytes);
    if (v >= 17 && !uuid_is_zero(&p->replica_directory_id)) {
        kw_uvarint(w, 1);
        kw_uvarint(w, 0);
        kw_uvarint(w, 16);
        kw_uuid(w, &p->replica_directory_id);
    } else {
        kw_tags_empty(w, flex);
    }
}

/* Tagged fields are written only when they differ from their defaults. */
static void encode_req_tags(kafka_writer *w, int16_t v, const kafka_fetch_req *in) {
    bool has_cluster = in->cluster_id.len >= 0;
    bool has_state = v >= 15 && (in->replica_state.replica_id != -1 || in->replica_state.replica_epoch != -1);
    kw_uvarint(w, (uint32_t)has_cluster + (uint32_t)has_state);
    if (has_cluster) {
        kw_uvarint(w, 0);
        kw_uvarint(w, (uint32_t)kw_compact_str_size(in->cluster_id));
        kw_str(w, true, in->cluster_id);
    }
    if (has_state) {
        kw_uvarint(w, 1);
        kw_uvarint(w, 13); /* int32, int64, empty tag section */
        kw_i32(w, in->replica_state.replica_id);
        kw_i64(w, in->replica_state.replica_epoch);
        kw_tags_empty(w, true);
    }
}

void kafka_fetch_req_encode(kafka_writer *w, int16_t v, const kafka_fetch_req *in) {
    bool flex = v >= FETCH_FLEX_FROM;
    if (v <= 14)
        kw_i32(w, in->replica_id);
    kw_i32(w, in->max_wait_ms);
    kw_i32(w, in->min_bytes);
    if (v >= 3)
        kw_i32(w, in->max_bytes);
    if (v >= 4)
        kw_i8(w, in->isolation_level);
    if (v >= 7) {
        kw_i32(w, in->session_id);
        kw_i32(w, in->session_epoch);
    }
    kw_array(w, flex, in->n_topics);
    for (int32_t i = 0; i < in->n_topics; i++) {
        const kafka_fetch_topic *t = &in->topics[i];
        if (v <= 12)
            kw_str(w, flex, t->topic);
        else
            kw_uuid(w, &t->topic_id);
        kw_array(w, flex, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++)
            encode_partition(w, v, &t->partitions[j]);
        kw_tags_empty(w, flex);
    }
    if (v >= 7) {
        kw_array(w, flex, in->n_forgotten_topics_data);
        for (int32_t i = 0; i < in->n_forgotten_topics_data; i++) {
            const kafka_fetch_forgotten_topic *t = &in->forgotten_topics_data[i];
            if (v <= 12)
                kw_str(w, flex, t->topic);
            else
                kw_uuid(w, &t->topic_id);
            kw_array(w, flex, t->n_partitions);
            for (int32_t j = 0; j < t->n_partitions; j++)
                kw_i32(w, t->partitions[j]);
            kw_tags_empty(w, flex);
        }
    }
    if (v >= 11)
        kw_str(w, flex, in->rack_id);
    if (flex)
        encode_req_tags(w, v, in);
}

/* ---- response ---- */

/* Partition tags (v12+): 0 DivergingEpoch, 1 CurrentLeader, 2 SnapshotId;
 * each is a struct with its own (empty) tag section. */
static void decode_partition_resp_tags(kafka_reader *r, bool flex, kafka_fetch_partition_resp *p) {
    uint32_t nt = kr_tag_count(r, flex);
    for (uint32_t i = 0; i < nt && kr_ok(r); i++) {
        uint32_t tag;
        kafka_reader sub = kr_tag_next(r, &tag);
        if (tag == 0) {
            p->diverging_epoch.epoch = kr_i32(&sub);
            p->diverging_epoch.end_offset = kr_i64(&sub);
        } else if (tag == 1) {
            p->current_leader.leader_id = kr_i32(&sub);
            p->current_leader.leader_epoch = kr_i32(&sub);
        } else if (tag == 2) {
            p->snapshot_id.end_offset = kr_i64(&sub);
            p->snapshot_id.epoch = kr_i32(&sub);
        } else {
            continue;
        }
        kr_skip_tags(&sub, true);
        check_sub(r, &sub);
    }
}

static int decode_partition_resp(kafka_reader *r, int16_t v, arena *a, kafka_fetch_partition_resp *p) {
    bool flex = v >= FETCH_FLEX_FROM;
    p->partition_index = kr_i32(r);
    p->error_code = kr_i16(r);
    p->high_watermark = kr_i64(r);
    p->last_stable_offset = v >= 4 ? kr_i64(r) : -1;
    p->log_start_offset = v >= 5 ? kr_i64(r) : -1;
    p->diverging_epoch = (kafka_fetch_epoch_end_offset){-1, -1};
    p->current_leader = (kafka_fetch_leader){-1, -1};
    p->snapshot_id = (kafka_fetch_snapshot_id){-1, -1};
    if (v >= 4) {
        int32_t n = kr_count(r, flex, 16, true);
        if (!ARENA_ALLOC_N(a, p->aborted_transactions, n))
            return -ENOMEM;
        p->n_aborted_transactions = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++) {
            p->aborted_transactions[i].producer_id = kr_i64(r);
            p->aborted_transactions[i].first_offset = kr_i64(r);
            kr_skip_tags(r, flex);
        }
    }
    p->preferred_read_replica = v >= 11 ? kr_i32(r) : -1;
    p->records = kr_nbytes(r, flex);
    p->records_release = NULL;
    p->records_owner = NULL;
    p->records_buf = NULL;
    decode_partition_resp_tags(r, flex, p);
    return 0;
}

int kafka_fetch_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_fetch_resp *out) {
    *out = (kafka_fetch_resp){0};
    if (v < 0 || v > FETCH_MAX_VERSION)
        return -EBADMSG;
    bool flex = v >= FETCH_FLEX_FROM;
    if (v >= 1)
        out->throttle_time_ms = kr_i32(r);
    if (v >= 7) {
        out->error_code = kr_i16(r);
        out->session_id = kr_i32(r);
    }
    int32_t n = kr_count(r, flex, v >= 13 ? 18 : flex ? 3 : 6, false);
    if (!ARENA_ALLOC_N(a, out->responses, n))
        return -ENOMEM;
    out->n_responses = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_fetch_topic_resp *t = &out->responses[i];
        t->topic = empty_str;
        if (v <= 12)
            t->topic = kr_string(r, flex);
        else
            t->topic_id = kr_uuid(r);
        /* index, error, high watermark, records length */
        int32_t np = kr_count(r, flex, 15, false);
        if (!ARENA_ALLOC_N(a, t->partitions, np))
            return -ENOMEM;
        t->n_partitions = np;
        for (int32_t j = 0; j < np && kr_ok(r); j++)
            if (decode_partition_resp(r, v, a, &t->partitions[j]) < 0)
                return -ENOMEM;
        kr_skip_tags(r, flex);
    }
    uint32_t nt = kr_tag_count(r, flex);
    for (uint32_t i = 0; i < nt && kr_ok(r); i++) {
        uint32_t tag;
        kafka_reader sub = kr_tag_next(r, &tag);
        if (tag != 0 || v < 16)
            continue;
        /* tag 0 (v16+): NodeEndpoints, read from its own reader */
        if (kafka_node_endpoints_decode(&sub, a, &out->node_endpoints, &out->n_node_endpoints) < 0)
            return -ENOMEM;
        check_sub(r, &sub);
    }
    return kr_ok(r) ? 0 : -EBADMSG;
}

/* Records are copied, or handed over by reference when the partition says
 * who owns them; the release then belongs to the writer in every case. */
static void encode_records(kafka_writer *w, bool flex, const kafka_fetch_partition_resp *p) {
    if (p->records_buf) {
        if (flex)
            kw_uvarint(w, (uint32_t)p->records.len + 1);
        else
            kw_i32(w, p->records.len);
        kw_evbuffer(w, p->records_buf);
        return;
    }
    if (!p->records_release) {
        kw_bytes(w, flex, p->records.ptr, p->records.len);
        return;
    }
    if (p->records.len < 0) {
        kw_bytes(w, flex, NULL, -1);
        p->records_release(p->records_owner);
        return;
    }
    if (flex)
        kw_uvarint(w, (uint32_t)p->records.len + 1);
    else
        kw_i32(w, p->records.len);
    kw_ref(w, p->records.ptr, (size_t)p->records.len, p->records_release, p->records_owner);
}

static void encode_partition_resp_tags(kafka_writer *w, const kafka_fetch_partition_resp *p) {
    bool has_div = p->diverging_epoch.epoch != -1 || p->diverging_epoch.end_offset != -1;
    bool has_leader = p->current_leader.leader_id != -1 || p->current_leader.leader_epoch != -1;
    bool has_snap = p->snapshot_id.end_offset != -1 || p->snapshot_id.epoch != -1;
    kw_uvarint(w, (uint32_t)has_div + (uint32_t)has_leader + (uint32_t)has_snap);
    /* sizes: the struct's fields plus its empty tag section */
    if (has_div) {
        kw_uvarint(w, 0);
        kw_uvarint(w, 13);
        kw_i32(w, p->diverging_epoch.epoch);
        kw_i64(w, p->diverging_epoch.end_offset);
        kw_tags_empty(w, true);
    }
    if (has_leader) {
        kw_uvarint(w, 1);
        kw_uvarint(w, 9);
        kw_i32(w, p->current_leader.leader_id);
        kw_i32(w, p->current_leader.leader_epoch);
        kw_tags_empty(w, true);
    }
    if (has_snap) {
        kw_uvarint(w, 2);
        kw_uvarint(w, 13);
        kw_i64(w, p->snapshot_id.end_offset);
        kw_i32(w, p->snapshot_id.epoch);
        kw_tags_empty(w, true);
    }
}

static void encode_partition_resp(kafka_writer *w, int16_t v, const kafka_fetch_partition_resp *p) {
    bool flex = v >= FETCH_FLEX_FROM;
    kw_i32(w, p->partition_index);
    kw_i16(w, p->error_code);
    kw_i64(w, p->high_watermark);
    if (v >= 4)
        kw_i64(w, p->last_stable_offset);
    if (v >= 5)
        kw_i64(w, p->log_start_offset);
    if (v >= 4) {
        kw_array(w, flex, p->n_aborted_transactions);
        for (int32_t i = 0; i < p->n_aborted_transactions; i++) {
            kw_i64(w, p->aborted_transactions[i].producer_id);
            kw_i64(w, p->aborted_transactions[i].first_offset);
            kw_tags_empty(w, flex);
        }
    }
    if (v >= 11)
        kw_i32(w, p->preferred_read_replica);
    encode_records(w, flex, p);
    if (flex)
        encode_partition_resp_tags(w, p);
}

void kafka_fetch_resp_encode(kafka_writer *w, int16_t v, const kafka_fetch_resp *in) {
    bool flex = v >= FETCH_FLEX_FROM;
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    if (v >= 7) {
        kw_i16(w, in->error_code);
        kw_i32(w, in->session_id);
    }
    kw_array(w, flex, in->n_responses);
    for (int32_t i = 0; i < in->n_responses; i++) {
        const kafka_fetch_topic_resp *t = &in->responses[i];
        if (v <= 12)
            kw_str(w, flex, t->topic);
        else
            kw_uuid(w, &t->topic_id);
        kw_array(w, flex, t->n_partitions);
        for (int32_t j = 0; j < t->n_partitions; j++)
            encode_partition_resp(w, v, &t->partitions[j]);
        kw_tags_empty(w, flex);
    }
    if (v >= 16 && in->n_node_endpoints > 0)
        kafka_node_endpoints_write_tags(w, in->node_endpoints, in->n_node_endpoints);
    else
        kw_tags_empty(w, flex);
}
