/* test_kafka_codec_data.c — codecs of the data-path APIs: Produce, Fetch,
 * ListOffsets, Metadata, OffsetForLeaderEpoch, InitProducerId.
 *
 * For every API and every version: a request and a response with non-default
 * values in every field of that version (arrays of two, null and non-null
 * nullable strings) are encoded, decoded and compared field by field; the
 * decode must consume the whole input, re-encoding must give the same bytes,
 * and every truncation must give -EBADMSG (codec_check.h). Fields absent in a
 * version are filled with their protocol defaults, so the comparison also
 * checks the defaults a decoder sets. Then hand-checked byte vectors written
 * from the protocol specification, and malformed inputs. The admin APIs are
 * in test_kafka_codec_admin.c. */
#include "codec_check.h"
#include "kafka_fetch.h"
#include "kafka_initproducerid.h"
#include "kafka_listoffsets.h"
#include "kafka_metadata.h"
#include "kafka_offsetforleaderepoch.h"
#include "kafka_produce.h"
#include "kafka_proto.h"

CODEC(produce, req, 11)
CODEC(produce, resp, 11)
CODEC(fetch, req, 17)
CODEC(fetch, resp, 17)
CODEC(listoffsets, req, 10)
CODEC(listoffsets, resp, 10)
CODEC(metadata, req, 12)
CODEC(metadata, resp, 12)
CODEC(offsetforleaderepoch, req, 4)
CODEC(offsetforleaderepoch, resp, 4)
CODEC(initproducerid, req, 5)
CODEC(initproducerid, resp, 5)

/* ---- Produce ---- */

static kafka_produce_req fill_produce_req(arena *a, int16_t v) {
    kafka_produce_req q = {.transactional_id = NULLS, .acks = -1, .timeout_ms = 30000};
    if (v >= 3)
        q.transactional_id = v % 2 ? S("txn-1") : NULLS;
    q.n_topic_data = 2;
    q.topic_data = ALLOC(a, 2, kafka_produce_topic);
    for (int i = 0; i < 2; i++) {
        kafka_produce_topic *t = &q.topic_data[i];
        t->name = i ? S("beta") : S("alpha");
        t->n_partition_data = 2;
        t->partition_data = ALLOC(a, 2, kafka_produce_partition);
        for (int j = 0; j < 2; j++) {
            t->partition_data[j].index = 10 * i + j + 1;
            t->partition_data[j].records = j ? NULLB : B("\x01\x02\x03records");
        }
    }
    return q;
}

static void cmp_produce_req(const kafka_produce_req *x, const kafka_produce_req *y) {
    EQ_STR(x->transactional_id, y->transactional_id);
    EQ(x->acks, y->acks);
    EQ(x->timeout_ms, y->timeout_ms);
    EQ(x->n_topic_data, y->n_topic_data);
    EACH(i, x, y, n_topic_data) {
        const kafka_produce_topic *a = &x->topic_data[i], *b = &y->topic_data[i];
        EQ_STR(a->name, b->name);
        EQ(a->n_partition_data, b->n_partition_data);
        EACH(j, a, b, n_partition_data) {
            EQ(a->partition_data[j].index, b->partition_data[j].index);
            EQ_BYTES(a->partition_data[j].records, b->partition_data[j].records);
        }
    }
}

static kafka_produce_resp fill_produce_resp(arena *a, int16_t v) {
    kafka_produce_resp q = {.throttle_time_ms = v >= 1 ? 50 : 0};
    q.n_responses = 2;
    q.responses = ALLOC(a, 2, kafka_produce_topic_resp);
    for (int i = 0; i < 2; i++) {
        kafka_produce_topic_resp *t = &q.responses[i];
        t->name = i ? S("beta") : S("alpha");
        t->n_partition_responses = 2;
        t->partition_responses = ALLOC(a, 2, kafka_produce_partition_resp);
        for (int j = 0; j < 2; j++) {
            kafka_produce_partition_resp *p = &t->partition_responses[j];
            p->index = j + 4;
            p->error_code = (int16_t)(j ? 6 : 0);
            p->base_offset = 1000 + 10 * i + j;
            p->log_append_time_ms = v >= 2 ? 1700000000000 + j : -1;
            p->log_start_offset = v >= 5 ? 77 : -1;
            p->error_message = NULLS;
            if (v >= 8) {
                p->n_record_errors = 2;
                p->record_errors = ALLOC(a, 2, kafka_produce_record_error);
                p->record_errors[0] = (kafka_produce_record_error){1, S("bad record")};
                p->record_errors[1] = (kafka_produce_record_error){2, NULLS};
                p->error_message = j ? NULLS : S("batch dropped");
            }
            /* the second partition keeps the default: its tag is not written */
            p->current_leader = v >= 10 && j == 0 ? (kafka_produce_leader){5, 9}
                                                  : (kafka_produce_leader){-1, -1};
        }
    }
    if (v >= 10) {
        q.n_node_endpoints = 2;
        q.node_endpoints = ALLOC(a, 2, kafka_produce_node_endpoint);
        q.node_endpoints[0] = (kafka_produce_node_endpoint){1, S("host-1"), 9092, S("rack-1")};
        q.node_endpoints[1] = (kafka_produce_node_endpoint){2, S("host-2"), 9093, NULLS};
    }
    return q;
}

static void cmp_produce_resp(const kafka_produce_resp *x, const kafka_produce_resp *y) {
    EQ(x->n_responses, y->n_responses);
    EACH(i, x, y, n_responses) {
        const kafka_produce_topic_resp *a = &x->responses[i], *b = &y->responses[i];
        EQ_STR(a->name, b->name);
        EQ(a->n_partition_responses, b->n_partition_responses);
        EACH(j, a, b, n_partition_responses) {
            const kafka_produce_partition_resp *p = &a->partition_responses[j];
            const kafka_produce_partition_resp *q = &b->partition_responses[j];
            EQ(p->index, q->index);
            EQ(p->error_code, q->error_code);
            EQ(p->base_offset, q->base_offset);
            EQ(p->log_append_time_ms, q->log_append_time_ms);
            EQ(p->log_start_offset, q->log_start_offset);
            EQ(p->n_record_errors, q->n_record_errors);
            EACH(k, p, q, n_record_errors) {
                EQ(p->record_errors[k].batch_index, q->record_errors[k].batch_index);
                EQ_STR(p->record_errors[k].batch_index_error_message,
                       q->record_errors[k].batch_index_error_message);
            }
            EQ_STR(p->error_message, q->error_message);
            EQ(p->current_leader.leader_id, q->current_leader.leader_id);
            EQ(p->current_leader.leader_epoch, q->current_leader.leader_epoch);
        }
    }
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_node_endpoints, y->n_node_endpoints);
    EACH(i, x, y, n_node_endpoints) {
        EQ(x->node_endpoints[i].node_id, y->node_endpoints[i].node_id);
        EQ_STR(x->node_endpoints[i].host, y->node_endpoints[i].host);
        EQ(x->node_endpoints[i].port, y->node_endpoints[i].port);
        EQ_STR(x->node_endpoints[i].rack, y->node_endpoints[i].rack);
    }
}

static void test_produce_roundtrip(void) {
    ROUNDTRIP_ALL(produce_req, kafka_produce_req, fill_produce_req, cmp_produce_req);
    ROUNDTRIP_ALL(produce_resp, kafka_produce_resp, fill_produce_resp, cmp_produce_resp);
}

/* ---- Fetch ---- */

static kafka_fetch_req fill_fetch_req(arena *a, int16_t v) {
    kafka_fetch_req q = {
        .cluster_id = v >= 12 && v % 2 == 0 ? S("cluster-x") : NULLS,
        .replica_id = v <= 14 ? 3 : -1,
        .replica_state = v >= 15 ? (kafka_fetch_replica_state){4, 44} : (kafka_fetch_replica_state){-1, -1},
        .max_wait_ms = 500,
        .min_bytes = 1,
        .max_bytes = v >= 3 ? 1 << 20 : INT32_MAX,
        .isolation_level = (int8_t)(v >= 4 ? 1 : 0),
        .session_id = v >= 7 ? 12 : 0,
        .session_epoch = v >= 7 ? 3 : -1,
        .rack_id = v >= 11 ? S("rack-a") : EMPTYS,
    };
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_fetch_topic);
    for (int i = 0; i < 2; i++) {
        kafka_fetch_topic *t = &q.topics[i];
        t->topic = v <= 12 ? (i ? S("beta") : S("alpha")) : EMPTYS;
        t->topic_id = v >= 13 ? U((uint8_t)(i + 1)) : ZERO_UUID;
        t->n_partitions = 2;
        t->partitions = ALLOC(a, 2, kafka_fetch_partition);
        for (int j = 0; j < 2; j++)
            t->partitions[j] = (kafka_fetch_partition){
                .partition = j,
                .current_leader_epoch = v >= 9 ? 7 : -1,
                .fetch_offset = 100 + j,
                .last_fetched_epoch = v >= 12 ? 6 : -1,
                .log_start_offset = v >= 5 ? 2 : -1,
                .partition_max_bytes = 65536,
                .replica_directory_id = v >= 17 && j == 0 ? U(9) : ZERO_UUID,
            };
    }
    if (v >= 7) {
        q.n_forgotten_topics_data = 2;
        q.forgotten_topics_data = ALLOC(a, 2, kafka_fetch_forgotten_topic);
        for (int i = 0; i < 2; i++) {
            kafka_fetch_forgotten_topic *t = &q.forgotten_topics_data[i];
            t->topic = v <= 12 ? (i ? S("gamma") : S("delta")) : EMPTYS;
            t->topic_id = v >= 13 ? U((uint8_t)(i + 5)) : ZERO_UUID;
            t->n_partitions = 2;
            t->partitions = I32S(a, 1, 2);
        }
    }
    return q;
}

static void cmp_fetch_req(const kafka_fetch_req *x, const kafka_fetch_req *y) {
    EQ_STR(x->cluster_id, y->cluster_id);
    EQ(x->replica_id, y->replica_id);
    EQ(x->replica_state.replica_id, y->replica_state.replica_id);
    EQ(x->replica_state.replica_epoch, y->replica_state.replica_epoch);
    EQ(x->max_wait_ms, y->max_wait_ms);
    EQ(x->min_bytes, y->min_bytes);
    EQ(x->max_bytes, y->max_bytes);
    EQ(x->isolation_level, y->isolation_level);
    EQ(x->session_id, y->session_id);
    EQ(x->session_epoch, y->session_epoch);
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        const kafka_fetch_topic *a = &x->topics[i], *b = &y->topics[i];
        EQ_STR(a->topic, b->topic);
        EQ_UUID(a->topic_id, b->topic_id);
        EQ(a->n_partitions, b->n_partitions);
        EACH(j, a, b, n_partitions) {
            const kafka_fetch_partition *p = &a->partitions[j], *q = &b->partitions[j];
            EQ(p->partition, q->partition);
            EQ(p->current_leader_epoch, q->current_leader_epoch);
            EQ(p->fetch_offset, q->fetch_offset);
            EQ(p->last_fetched_epoch, q->last_fetched_epoch);
            EQ(p->log_start_offset, q->log_start_offset);
            EQ(p->partition_max_bytes, q->partition_max_bytes);
            EQ_UUID(p->replica_directory_id, q->replica_directory_id);
        }
    }
    EQ(x->n_forgotten_topics_data, y->n_forgotten_topics_data);
    EACH(i, x, y, n_forgotten_topics_data) {
        const kafka_fetch_forgotten_topic *a = &x->forgotten_topics_data[i];
        const kafka_fetch_forgotten_topic *b = &y->forgotten_topics_data[i];
        EQ_STR(a->topic, b->topic);
        EQ_UUID(a->topic_id, b->topic_id);
        EQ(a->n_partitions, b->n_partitions);
        EACH(j, a, b, n_partitions)
            EQ(a->partitions[j], b->partitions[j]);
    }
    EQ_STR(x->rack_id, y->rack_id);
}

static kafka_fetch_resp fill_fetch_resp(arena *a, int16_t v) {
    kafka_fetch_resp q = {
        .throttle_time_ms = v >= 1 ? 7 : 0,
        .error_code = (int16_t)(v >= 7 ? 70 : 0),
        .session_id = v >= 7 ? 99 : 0,
    };
    q.n_responses = 2;
    q.responses = ALLOC(a, 2, kafka_fetch_topic_resp);
    for (int i = 0; i < 2; i++) {
        kafka_fetch_topic_resp *t = &q.responses[i];
        t->topic = v <= 12 ? (i ? S("beta") : S("alpha")) : EMPTYS;
        t->topic_id = v >= 13 ? U((uint8_t)(i + 1)) : ZERO_UUID;
        t->n_partitions = 2;
        t->partitions = ALLOC(a, 2, kafka_fetch_partition_resp);
        for (int j = 0; j < 2; j++) {
            kafka_fetch_partition_resp *p = &t->partitions[j];
            bool tags = v >= 12;
            p->partition_index = j;
            p->error_code = (int16_t)j;
            p->high_watermark = 500 + j;
            p->last_stable_offset = v >= 4 ? 490 : -1;
            p->log_start_offset = v >= 5 ? 10 : -1;
            /* the first partition carries all tags, the second only one */
            p->diverging_epoch = tags && j == 0 ? (kafka_fetch_epoch_end_offset){3, 400}
                                                : (kafka_fetch_epoch_end_offset){-1, -1};
            p->current_leader = tags && j == 0 ? (kafka_fetch_leader){1, 3} : (kafka_fetch_leader){-1, -1};
            p->snapshot_id = tags ? (kafka_fetch_snapshot_id){300 + j, j ? -1 : 2}
                                  : (kafka_fetch_snapshot_id){-1, -1};
            if (v >= 4 && j == 0) {
                p->n_aborted_transactions = 2;
                p->aborted_transactions = ALLOC(a, 2, kafka_fetch_aborted_txn);
                p->aborted_transactions[0] = (kafka_fetch_aborted_txn){1000, 450};
                p->aborted_transactions[1] = (kafka_fetch_aborted_txn){1001, 460};
            } else if (v >= 4) {
                p->n_aborted_transactions = -1;
            }
            p->preferred_read_replica = v >= 11 ? 2 : -1;
            p->records = j ? NULLB : B("RECORDBATCH");
        }
    }
    if (v >= 16) {
        q.n_node_endpoints = 2;
        q.node_endpoints = ALLOC(a, 2, kafka_fetch_node_endpoint);
        q.node_endpoints[0] = (kafka_fetch_node_endpoint){1, S("host-1"), 9092, S("rack-1")};
        q.node_endpoints[1] = (kafka_fetch_node_endpoint){2, S("host-2"), 9093, NULLS};
    }
    return q;
}

static void cmp_fetch_partition_resp(const kafka_fetch_partition_resp *p, const kafka_fetch_partition_resp *q) {
    EQ(p->partition_index, q->partition_index);
    EQ(p->error_code, q->error_code);
    EQ(p->high_watermark, q->high_watermark);
    EQ(p->last_stable_offset, q->last_stable_offset);
    EQ(p->log_start_offset, q->log_start_offset);
    EQ(p->diverging_epoch.epoch, q->diverging_epoch.epoch);
    EQ(p->diverging_epoch.end_offset, q->diverging_epoch.end_offset);
    EQ(p->current_leader.leader_id, q->current_leader.leader_id);
    EQ(p->current_leader.leader_epoch, q->current_leader.leader_epoch);
    EQ(p->snapshot_id.end_offset, q->snapshot_id.end_offset);
    EQ(p->snapshot_id.epoch, q->snapshot_id.epoch);
    EQ(p->n_aborted_transactions, q->n_aborted_transactions);
    EACH(k, p, q, n_aborted_transactions) {
        EQ(p->aborted_transactions[k].producer_id, q->aborted_transactions[k].producer_id);
        EQ(p->aborted_transactions[k].first_offset, q->aborted_transactions[k].first_offset);
    }
    EQ(p->preferred_read_replica, q->preferred_read_replica);
    EQ_BYTES(p->records, q->records);
    CHECK(q->records_release == NULL);
}

static void cmp_fetch_resp(const kafka_fetch_resp *x, const kafka_fetch_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->error_code, y->error_code);
    EQ(x->session_id, y->session_id);
    EQ(x->n_responses, y->n_responses);
    EACH(i, x, y, n_responses) {
        const kafka_fetch_topic_resp *a = &x->responses[i], *b = &y->responses[i];
        EQ_STR(a->topic, b->topic);
        EQ_UUID(a->topic_id, b->topic_id);
        EQ(a->n_partitions, b->n_partitions);
        EACH(j, a, b, n_partitions)
            cmp_fetch_partition_resp(&a->partitions[j], &b->partitions[j]);
    }
    EQ(x->n_node_endpoints, y->n_node_endpoints);
    EACH(i, x, y, n_node_endpoints) {
        EQ(x->node_endpoints[i].node_id, y->node_endpoints[i].node_id);
        EQ_STR(x->node_endpoints[i].host, y->node_endpoints[i].host);
        EQ(x->node_endpoints[i].port, y->node_endpoints[i].port);
        EQ_STR(x->node_endpoints[i].rack, y->node_endpoints[i].rack);
    }
}

static void test_fetch_roundtrip(void) {
    ROUNDTRIP_ALL(fetch_req, kafka_fetch_req, fill_fetch_req, cmp_fetch_req);
    ROUNDTRIP_ALL(fetch_resp, kafka_fetch_resp, fill_fetch_resp, cmp_fetch_resp);
}

/* ---- ListOffsets ---- */

static kafka_listoffsets_req fill_listoffsets_req(arena *a, int16_t v) {
    kafka_listoffsets_req q = {
        .replica_id = 5,
        .isolation_level = (int8_t)(v >= 2 ? 1 : 0),
        .timeout_ms = v >= 10 ? 1500 : 0,
    };
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_listoffsets_topic);
    for (int i = 0; i < 2; i++) {
        q.topics[i].name = i ? S("beta") : S("alpha");
        q.topics[i].n_partitions = 2;
        q.topics[i].partitions = ALLOC(a, 2, kafka_listoffsets_partition);
        for (int j = 0; j < 2; j++)
            q.topics[i].partitions[j] = (kafka_listoffsets_partition){
                .partition_index = j + 1,
                .current_leader_epoch = v >= 4 ? 8 : -1,
                .timestamp = j ? -2 : 1700000000000,
                .max_num_offsets = v == 0 ? 5 : 1,
            };
    }
    return q;
}

static void cmp_listoffsets_req(const kafka_listoffsets_req *x, const kafka_listoffsets_req *y) {
    EQ(x->replica_id, y->replica_id);
    EQ(x->isolation_level, y->isolation_level);
    EQ(x->timeout_ms, y->timeout_ms);
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        const kafka_listoffsets_topic *a = &x->topics[i], *b = &y->topics[i];
        EQ_STR(a->name, b->name);
        EQ(a->n_partitions, b->n_partitions);
        EACH(j, a, b, n_partitions) {
            EQ(a->partitions[j].partition_index, b->partitions[j].partition_index);
            EQ(a->partitions[j].current_leader_epoch, b->partitions[j].current_leader_epoch);
            EQ(a->partitions[j].timestamp, b->partitions[j].timestamp);
            EQ(a->partitions[j].max_num_offsets, b->partitions[j].max_num_offsets);
        }
    }
}

static kafka_listoffsets_resp fill_listoffsets_resp(arena *a, int16_t v) {
    kafka_listoffsets_resp q = {.throttle_time_ms = v >= 2 ? 9 : 0};
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_listoffsets_topic_resp);
    for (int i = 0; i < 2; i++) {
        q.topics[i].name = i ? S("beta") : S("alpha");
        q.topics[i].n_partitions = 2;
        q.topics[i].partitions = ALLOC(a, 2, kafka_listoffsets_partition_resp);
        for (int j = 0; j < 2; j++) {
            kafka_listoffsets_partition_resp *p = &q.topics[i].partitions[j];
            p->partition_index = j + 1;
            p->error_code = (int16_t)(j ? 3 : 0);
            if (v == 0) {
                p->n_old_style_offsets = 2;
                p->old_style_offsets = ALLOC(a, 2, int64_t);
                p->old_style_offsets[0] = 42;
                p->old_style_offsets[1] = 7;
            }
            p->timestamp = v >= 1 ? 111 : -1;
            p->offset = v >= 1 ? 222 + j : -1;
            p->leader_epoch = v >= 4 ? 4 : -1;
        }
    }
    return q;
}

static void cmp_listoffsets_resp(const kafka_listoffsets_resp *x, const kafka_listoffsets_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        const kafka_listoffsets_topic_resp *a = &x->topics[i], *b = &y->topics[i];
        EQ_STR(a->name, b->name);
        EQ(a->n_partitions, b->n_partitions);
        EACH(j, a, b, n_partitions) {
            const kafka_listoffsets_partition_resp *p = &a->partitions[j], *q = &b->partitions[j];
            EQ(p->partition_index, q->partition_index);
            EQ(p->error_code, q->error_code);
            EQ(p->n_old_style_offsets, q->n_old_style_offsets);
            EACH(k, p, q, n_old_style_offsets)
                EQ(p->old_style_offsets[k], q->old_style_offsets[k]);
            EQ(p->timestamp, q->timestamp);
            EQ(p->offset, q->offset);
            EQ(p->leader_epoch, q->leader_epoch);
        }
    }
}

static void test_listoffsets_roundtrip(void) {
    ROUNDTRIP_ALL(listoffsets_req, kafka_listoffsets_req, fill_listoffsets_req, cmp_listoffsets_req);
    ROUNDTRIP_ALL(listoffsets_resp, kafka_listoffsets_resp, fill_listoffsets_resp, cmp_listoffsets_resp);
}

/* ---- Metadata ---- */

static kafka_metadata_req fill_metadata_req(arena *a, int16_t v) {
    kafka_metadata_req q = {
        .allow_auto_topic_creation = v < 4,
        .include_cluster_authorized_operations = v >= 8 && v <= 10,
        .include_topic_authorized_operations = v >= 8,
    };
    if (v == 1 || v == 9 || v == 12) {
        q.n_topics = -1; /* all topics */
        return q;
    }
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_metadata_req_topic);
    for (int i = 0; i < 2; i++) {
        q.topics[i].topic_id = v >= 10 ? U((uint8_t)(i + 3)) : ZERO_UUID;
        q.topics[i].name = v >= 10 && i == 1 ? NULLS : i ? S("beta") : S("alpha");
    }
    return q;
}

static void cmp_metadata_req(const kafka_metadata_req *x, const kafka_metadata_req *y) {
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        EQ_UUID(x->topics[i].topic_id, y->topics[i].topic_id);
        EQ_STR(x->topics[i].name, y->topics[i].name);
    }
    EQ(x->allow_auto_topic_creation, y->allow_auto_topic_creation);
    EQ(x->include_cluster_authorized_operations, y->include_cluster_authorized_operations);
    EQ(x->include_topic_authorized_operations, y->include_topic_authorized_operations);
}

static kafka_metadata_resp fill_metadata_resp(arena *a, int16_t v) {
    kafka_metadata_resp q = {
        .throttle_time_ms = v >= 3 ? 10 : 0,
        .cluster_id = v >= 2 && v % 2 ? S("eddy-cluster") : NULLS,
        .controller_id = v >= 1 ? 1 : -1,
        .cluster_authorized_operations = v >= 8 && v <= 10 ? 0x3 : INT32_MIN,
    };
    q.n_brokers = 2;
    q.brokers = ALLOC(a, 2, kafka_metadata_broker);
    q.brokers[0] = (kafka_metadata_broker){1, S("broker-1"), 9092, v >= 1 ? S("rack-1") : NULLS};
    q.brokers[1] = (kafka_metadata_broker){2, S("broker-2"), 9093, NULLS};
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_metadata_topic);
    for (int i = 0; i < 2; i++) {
        kafka_metadata_topic *t = &q.topics[i];
        t->error_code = (int16_t)(i ? 3 : 0);
        t->name = v >= 12 && i == 1 ? NULLS : i ? S("beta") : S("alpha");
        t->topic_id = v >= 10 ? U((uint8_t)(i + 1)) : ZERO_UUID;
        t->is_internal = v >= 1 && i == 0;
        t->topic_authorized_operations = v >= 8 ? 0x0f : INT32_MIN;
        t->n_partitions = 2;
        t->partitions = ALLOC(a, 2, kafka_metadata_partition);
        for (int j = 0; j < 2; j++) {
            kafka_metadata_partition *p = &t->partitions[j];
            p->error_code = (int16_t)(j ? 9 : 0);
            p->partition_index = j;
            p->leader_id = 1 + j;
            p->leader_epoch = v >= 7 ? 5 : -1;
            p->n_replica_nodes = 2;
            p->replica_nodes = I32S(a, 1, 2);
            p->n_isr_nodes = 2;
            p->isr_nodes = I32S(a, 2, 1);
            if (v >= 5) {
                p->n_offline_replicas = 2;
                p->offline_replicas = I32S(a, 3, 4);
            }
        }
    }
    return q;
}

static void cmp_metadata_resp(const kafka_metadata_resp *x, const kafka_metadata_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_brokers, y->n_brokers);
    EACH(i, x, y, n_brokers) {
        EQ(x->brokers[i].node_id, y->brokers[i].node_id);
        EQ_STR(x->brokers[i].host, y->brokers[i].host);
        EQ(x->brokers[i].port, y->brokers[i].port);
        EQ_STR(x->brokers[i].rack, y->brokers[i].rack);
    }
    EQ_STR(x->cluster_id, y->cluster_id);
    EQ(x->controller_id, y->controller_id);
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        const kafka_metadata_topic *a = &x->topics[i], *b = &y->topics[i];
        EQ(a->error_code, b->error_code);
        EQ_STR(a->name, b->name);
        EQ_UUID(a->topic_id, b->topic_id);
        EQ(a->is_internal, b->is_internal);
        EQ(a->topic_authorized_operations, b->topic_authorized_operations);
        EQ(a->n_partitions, b->n_partitions);
        EACH(j, a, b, n_partitions) {
            const kafka_metadata_partition *p = &a->partitions[j], *q = &b->partitions[j];
            EQ(p->error_code, q->error_code);
            EQ(p->partition_index, q->partition_index);
            EQ(p->leader_id, q->leader_id);
            EQ(p->leader_epoch, q->leader_epoch);
            cmp_i32s(p->replica_nodes, p->n_replica_nodes, q->replica_nodes, q->n_replica_nodes);
            cmp_i32s(p->isr_nodes, p->n_isr_nodes, q->isr_nodes, q->n_isr_nodes);
            cmp_i32s(p->offline_replicas, p->n_offline_replicas, q->offline_replicas, q->n_offline_replicas);
        }
    }
    EQ(x->cluster_authorized_operations, y->cluster_authorized_operations);
}

static void test_metadata_roundtrip(void) {
    ROUNDTRIP_ALL(metadata_req, kafka_metadata_req, fill_metadata_req, cmp_metadata_req);
    ROUNDTRIP_ALL(metadata_resp, kafka_metadata_resp, fill_metadata_resp, cmp_metadata_resp);
}

/* ---- OffsetForLeaderEpoch ---- */

static kafka_offsetforleaderepoch_req fill_ofle_req(arena *a, int16_t v) {
    kafka_offsetforleaderepoch_req q = {.replica_id = v >= 3 ? 7 : -2};
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_offsetforleaderepoch_topic);
    for (int i = 0; i < 2; i++) {
        q.topics[i].topic = i ? S("beta") : S("alpha");
        q.topics[i].n_partitions = 2;
        q.topics[i].partitions = ALLOC(a, 2, kafka_offsetforleaderepoch_partition);
        for (int j = 0; j < 2; j++)
            q.topics[i].partitions[j] = (kafka_offsetforleaderepoch_partition){j, v >= 2 ? 4 : -1, 3};
    }
    return q;
}

static void cmp_ofle_req(const kafka_offsetforleaderepoch_req *x, const kafka_offsetforleaderepoch_req *y) {
    EQ(x->replica_id, y->replica_id);
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        const kafka_offsetforleaderepoch_topic *a = &x->topics[i], *b = &y->topics[i];
        EQ_STR(a->topic, b->topic);
        EQ(a->n_partitions, b->n_partitions);
        EACH(j, a, b, n_partitions) {
            EQ(a->partitions[j].partition, b->partitions[j].partition);
            EQ(a->partitions[j].current_leader_epoch, b->partitions[j].current_leader_epoch);
            EQ(a->partitions[j].leader_epoch, b->partitions[j].leader_epoch);
        }
    }
}

static kafka_offsetforleaderepoch_resp fill_ofle_resp(arena *a, int16_t v) {
    kafka_offsetforleaderepoch_resp q = {.throttle_time_ms = v >= 2 ? 2 : 0};
    q.n_topics = 2;
    q.topics = ALLOC(a, 2, kafka_offsetforleaderepoch_topic_resp);
    for (int i = 0; i < 2; i++) {
        q.topics[i].topic = i ? S("beta") : S("alpha");
        q.topics[i].n_partitions = 2;
        q.topics[i].partitions = ALLOC(a, 2, kafka_offsetforleaderepoch_partition_resp);
        for (int j = 0; j < 2; j++)
            q.topics[i].partitions[j] =
                (kafka_offsetforleaderepoch_partition_resp){(int16_t)(j ? 75 : 0), j, v >= 1 ? 3 : -1, 900 + j};
    }
    return q;
}

static void cmp_ofle_resp(const kafka_offsetforleaderepoch_resp *x, const kafka_offsetforleaderepoch_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->n_topics, y->n_topics);
    EACH(i, x, y, n_topics) {
        const kafka_offsetforleaderepoch_topic_resp *a = &x->topics[i], *b = &y->topics[i];
        EQ_STR(a->topic, b->topic);
        EQ(a->n_partitions, b->n_partitions);
        EACH(j, a, b, n_partitions) {
            EQ(a->partitions[j].error_code, b->partitions[j].error_code);
            EQ(a->partitions[j].partition, b->partitions[j].partition);
            EQ(a->partitions[j].leader_epoch, b->partitions[j].leader_epoch);
            EQ(a->partitions[j].end_offset, b->partitions[j].end_offset);
        }
    }
}

static void test_offsetforleaderepoch_roundtrip(void) {
    ROUNDTRIP_ALL(offsetforleaderepoch_req, kafka_offsetforleaderepoch_req, fill_ofle_req, cmp_ofle_req);
    ROUNDTRIP_ALL(offsetforleaderepoch_resp, kafka_offsetforleaderepoch_resp, fill_ofle_resp, cmp_ofle_resp);
}

/* ---- InitProducerId ---- */

static kafka_initproducerid_req fill_initproducerid_req(arena *a, int16_t v) {
    (void)a;
    return (kafka_initproducerid_req){
        .transactional_id = v % 2 ? NULLS : S("tx-1"),
        .transaction_timeout_ms = 60000,
        .producer_id = v >= 3 ? 1000 : -1,
        .producer_epoch = (int16_t)(v >= 3 ? 2 : -1),
    };
}

static void cmp_initproducerid_req(const kafka_initproducerid_req *x, const kafka_initproducerid_req *y) {
    EQ_STR(x->transactional_id, y->transactional_id);
    EQ(x->transaction_timeout_ms, y->transaction_timeout_ms);
    EQ(x->producer_id, y->producer_id);
    EQ(x->producer_epoch, y->producer_epoch);
}

static kafka_initproducerid_resp fill_initproducerid_resp(arena *a, int16_t v) {
    (void)a;
    return (kafka_initproducerid_resp){1 + v, 47, 4242, 7};
}

static void cmp_initproducerid_resp(const kafka_initproducerid_resp *x, const kafka_initproducerid_resp *y) {
    EQ(x->throttle_time_ms, y->throttle_time_ms);
    EQ(x->error_code, y->error_code);
    EQ(x->producer_id, y->producer_id);
    EQ(x->producer_epoch, y->producer_epoch);
}

static void test_initproducerid_roundtrip(void) {
    ROUNDTRIP_ALL(initproducerid_req, kafka_initproducerid_req, fill_initproducerid_req, cmp_initproducerid_req);
    ROUNDTRIP_ALL(initproducerid_resp, kafka_initproducerid_resp, fill_initproducerid_resp,
                  cmp_initproducerid_resp);
}

/* ---- hand-checked byte vectors, written from the protocol specification ---- */

static void test_metadata_v1_vector(void) {
    /* topics: int32 count 1, then STRING "t" (int16 length 1) */
    static const uint8_t want[] = {0, 0, 0, 1, 0, 1, 't'};
    kafka_metadata_req_topic topic = {.name = S("t")};
    kafka_metadata_req q = {.topics = &topic, .n_topics = 1, .allow_auto_topic_creation = true};
    check_encoding(&metadata_req, 1, &q, want, sizeof want);

    kafka_metadata_req out;
    arena a;
    arena_init(&a);
    size_t left = 1;
    CHECK_EQ_INT(decode_bytes(&metadata_req, 1, want, sizeof want, &out, &a, &left), 0);
    CHECK_EQ_INT(left, 0);
    CHECK_EQ_INT(out.n_topics, 1);
    CHECK(out.n_topics == 1 && kafka_str_eq(out.topics[0].name, "t"));
    CHECK(out.allow_auto_topic_creation); /* v1 has no such field: default true */

    /* null topic list: -1 at v1; v0 cannot say null and says "all" with [] */
    static const uint8_t null_v1[] = {0xff, 0xff, 0xff, 0xff};
    static const uint8_t empty_v0[] = {0, 0, 0, 0};
    kafka_metadata_req all = {.n_topics = -1, .allow_auto_topic_creation = true};
    check_encoding(&metadata_req, 1, &all, null_v1, sizeof null_v1);
    check_encoding(&metadata_req, 0, &all, empty_v0, sizeof empty_v0);
    CHECK_EQ_INT(decode_bytes(&metadata_req, 1, null_v1, sizeof null_v1, &out, &a, NULL), 0);
    CHECK_EQ_INT(out.n_topics, -1);
    CHECK_EQ_INT(decode_bytes(&metadata_req, 0, null_v1, sizeof null_v1, &out, &a, NULL), -EBADMSG);
    arena_free(&a);
}

static void test_produce_v3_vector(void) {
    static const uint8_t want[] = {
        0, 0, 0, 3, 0, 0, 0, 7, 0, 3, 'c', 'l', 'i', /* header v1: key 0, v3, corr 7, "cli" */
        0xff, 0xff,                                  /* transactional_id: null */
        0xff, 0xff,                                  /* acks -1 */
        0, 0, 0x75, 0x30,                            /* timeout 30000 */
        0, 0, 0, 1, 0, 1, 't',                       /* one topic "t" */
        0, 0, 0, 1, 0, 0, 0, 0,                      /* one partition, index 0 */
        0, 0, 0, 3, 'a', 'b', 'c',                   /* records: 3 bytes */
    };
    kafka_produce_partition part = {0, B("abc")};
    kafka_produce_topic topic = {S("t"), &part, 1};
    kafka_produce_req q = {NULLS, -1, 30000, &topic, 1};
    kafka_req_header h = {.api_key = 0, .api_version = 3, .correlation_id = 7,
                          .client_id = S("cli"), .header_version = 1};
    kafka_writer w;
    kw_init(&w);
    kafka_req_header_write(&w, &h);
    kafka_produce_req_encode(&w, 3, &q);
    uint8_t *got = NULL;
    size_t len = 0;
    CHECK_EQ_INT(kw_flatten(&w, &got, &len), 0);
    CHECK_EQ_INT(len, sizeof want);
    if (got && len == sizeof want)
        CHECK_MEM(got, want, sizeof want);
    free(got);
    kw_free(&w);

    kafka_reader r;
    kr_init(&r, want, sizeof want);
    kafka_req_header rh;
    CHECK_EQ_INT(kafka_req_header_read(&r, 1, &rh), 0);
    CHECK_EQ_INT(rh.api_key, 0);
    CHECK_EQ_INT(rh.api_version, 3);
    CHECK_EQ_INT(rh.correlation_id, 7);
    CHECK(kafka_str_eq(rh.client_id, "cli"));
    kafka_produce_req out;
    arena a;
    arena_init(&a);
    CHECK_EQ_INT(kafka_produce_req_decode(&r, 3, &a, &out), 0);
    CHECK_EQ_INT(kr_remaining(&r), 0);
    CHECK_EQ_INT(out.transactional_id.len, -1);
    CHECK_EQ_INT(out.acks, -1);
    CHECK_EQ_INT(out.timeout_ms, 30000);
    CHECK(out.n_topic_data == 1 && kafka_str_eq(out.topic_data[0].name, "t"));
    if (out.n_topic_data == 1 && out.topic_data[0].n_partition_data == 1) {
        kafka_bytes rec = out.topic_data[0].partition_data[0].records;
        CHECK_EQ_INT(rec.len, 3);
        /* a view into the frame, never a copy */
        CHECK(rec.ptr == want + sizeof want - 3);
    } else {
        CHECK(0);
    }
    arena_free(&a);
}

/* The Fetch v12 response with one partition, records "xyz" (flexible forms). */
static const uint8_t fetch_v12_want[] = {
    0, 0, 0, 0,                 /* throttle_time_ms */
    0, 0,                       /* error_code */
    0, 0, 0, 0,                 /* session_id */
    2,                          /* responses: compact count 1 */
    2, 't',                     /* topic "t" */
    2,                          /* partitions: 1 */
    0, 0, 0, 0,                 /* partition_index */
    0, 0,                       /* error_code */
    0, 0, 0, 0, 0, 0, 0, 5,     /* high_watermark 5 */
    0, 0, 0, 0, 0, 0, 0, 5,     /* last_stable_offset 5 */
    0, 0, 0, 0, 0, 0, 0, 0,     /* log_start_offset 0 */
    0,                          /* aborted_transactions: null */
    0xff, 0xff, 0xff, 0xff,     /* preferred_read_replica -1 */
    4, 'x', 'y', 'z',           /* records: compact length 3 */
    0,                          /* partition tags */
    0,                          /* topic tags */
    0,                          /* response tags */
};

static int releases;
static void count_release(void *owner) {
    releases++;
    CHECK(owner == &releases);
}

static kafka_fetch_partition_resp fetch_v12_partition(void) {
    return (kafka_fetch_partition_resp){
        .high_watermark = 5, .last_stable_offset = 5, .log_start_offset = 0,
        .diverging_epoch = {-1, -1}, .current_leader = {-1, -1}, .snapshot_id = {-1, -1},
        .n_aborted_transactions = -1, .preferred_read_replica = -1, .records = B("xyz"),
    };
}

static void test_fetch_v12_vector(void) {
    kafka_fetch_partition_resp part = fetch_v12_partition();
    kafka_fetch_topic_resp topic = {.topic = S("t"), .partitions = &part, .n_partitions = 1};
    kafka_fetch_resp q = {.responses = &topic, .n_responses = 1};
    check_encoding(&fetch_resp, 12, &q, fetch_v12_want, sizeof fetch_v12_want);

    /* by reference: same bytes, the records are not copied, one release */
    static const uint8_t records[] = {'x', 'y', 'z'};
    part.records = (kafka_bytes){records, 3};
    part.records_release = count_release;
    part.records_owner = &releases;
    releases = 0;
    kafka_writer w;
    kw_init(&w);
    kafka_fetch_resp_encode(&w, 12, &q);
    bool referenced = false;
    for (size_t i = 0; i < w.nsegs; i++)
        if (w.segs[i].data == records && w.segs[i].len == 3 && w.segs[i].cap == 0)
            referenced = true;
    CHECK(referenced);
    uint8_t *got = NULL;
    size_t len = 0;
    CHECK_EQ_INT(kw_flatten(&w, &got, &len), 0);
    CHECK_EQ_INT(len, sizeof fetch_v12_want);
    if (got && len == sizeof fetch_v12_want)
        CHECK_MEM(got, fetch_v12_want, len);
    free(got);
    CHECK_EQ_INT(releases, 0); /* still needed until the writer is done */
    kw_free(&w);
    CHECK_EQ_INT(releases, 1);

    /* null records by reference: written as null, released at once */
    part.records = NULLB;
    releases = 0;
    kw_init(&w);
    kafka_fetch_resp_encode(&w, 12, &q);
    CHECK_EQ_INT(releases, 1);
    kw_free(&w);
    CHECK_EQ_INT(releases, 1);

    /* non-flexible v4: int32 length prefix before the referenced bytes */
    part.records = (kafka_bytes){records, 3};
    releases = 0;
    kw_init(&w);
    kafka_fetch_resp_encode(&w, 4, &q);
    got = NULL;
    CHECK_EQ_INT(kw_flatten(&w, &got, &len), 0);
    static const uint8_t tail_v4[] = {0, 0, 0, 3, 'x', 'y', 'z'};
    CHECK(got && len > sizeof tail_v4);
    if (got && len > sizeof tail_v4)
        CHECK_MEM(got + len - sizeof tail_v4, tail_v4, sizeof tail_v4);
    free(got);
    kw_free(&w);
    CHECK_EQ_INT(releases, 1);

    kafka_fetch_resp out;
    arena a;
    arena_init(&a);
    size_t left = 1;
    CHECK_EQ_INT(decode_bytes(&fetch_resp, 12, fetch_v12_want, sizeof fetch_v12_want, &out, &a, &left), 0);
    CHECK_EQ_INT(left, 0);
    if (out.n_responses == 1 && out.responses[0].n_partitions == 1) {
        const kafka_fetch_partition_resp *p = &out.responses[0].partitions[0];
        CHECK(kafka_str_eq(out.responses[0].topic, "t"));
        CHECK_EQ_INT(p->high_watermark, 5);
        CHECK_EQ_INT(p->n_aborted_transactions, -1);
        CHECK_EQ_INT(p->records.len, 3);
        CHECK(p->records.ptr == fetch_v12_want + sizeof fetch_v12_want - 6);
    } else {
        CHECK(0);
    }
    arena_free(&a);
}

/* Known tags are read, unknown tags skipped, at every level. */
static void test_fetch_v12_tags(void) {
    static const uint8_t in[] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 't', 2,
        0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0xff, 0xff, 0xff, 0xff, 4, 'x', 'y', 'z',
        2,                                /* partition tags: two */
        1, 9, 0, 0, 0, 2, 0, 0, 0, 4, 0,  /* tag 1 CurrentLeader {2, 4} */
        7, 2, 0xaa, 0xbb,                 /* tag 7: unknown, skipped */
        1, 3, 1, 0xcc,                    /* topic tags: unknown tag 3 */
        1, 5, 1, 0xff,                    /* response tags: unknown tag 5 */
    };
    kafka_fetch_resp out;
    arena a;
    arena_init(&a);
    size_t left = 1;
    CHECK_EQ_INT(decode_bytes(&fetch_resp, 12, in, sizeof in, &out, &a, &left), 0);
    CHECK_EQ_INT(left, 0);
    if (out.n_responses == 1 && out.responses[0].n_partitions == 1) {
        const kafka_fetch_partition_resp *p = &out.responses[0].partitions[0];
        CHECK_EQ_INT(p->current_leader.leader_id, 2);
        CHECK_EQ_INT(p->current_leader.leader_epoch, 4);
        CHECK_EQ_INT(p->diverging_epoch.epoch, -1);
        CHECK_EQ_INT(p->snapshot_id.end_offset, -1);
        CHECK_EQ_INT(p->records.len, 3);
    } else {
        CHECK(0);
    }
    /* a known tag whose size is too small for its value is malformed */
    uint8_t bad[sizeof in];
    memcpy(bad, in, sizeof in);
    size_t at = 55; /* the size byte of tag 1 */
    CHECK_EQ_INT(bad[at - 1], 1);
    CHECK_EQ_INT(bad[at], 9);
    bad[at] = 3;
    CHECK_EQ_INT(decode_bytes(&fetch_resp, 12, bad, sizeof bad, &out, &a, NULL), -EBADMSG);
    arena_free(&a);
}

/* ---- malformed input ---- */

static void test_lying_counts(void) {
    arena a;
    arena_init(&a);
    kafka_metadata_req mq;
    /* five topics announced, one present */
    static const uint8_t five[] = {0, 0, 0, 5, 0, 1, 't'};
    CHECK_EQ_INT(decode_bytes(&metadata_req, 1, five, sizeof five, &mq, &a, NULL), -EBADMSG);
    static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0, 1, 't'};
    CHECK_EQ_INT(decode_bytes(&metadata_req, 1, huge, sizeof huge, &mq, &a, NULL), -EBADMSG);
    static const uint8_t negative[] = {0xff, 0xff, 0xff, 0xfe, 0, 1, 't'};
    CHECK_EQ_INT(decode_bytes(&metadata_req, 1, negative, sizeof negative, &mq, &a, NULL), -EBADMSG);
    /* compact counts: 65535 elements, and the largest uvarint */
    static const uint8_t c64k[] = {0x80, 0x80, 0x04, 2, 't', 0, 1, 0, 0};
    CHECK_EQ_INT(decode_bytes(&metadata_req, 9, c64k, sizeof c64k, &mq, &a, NULL), -EBADMSG);
    static const uint8_t cmax[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 2, 't', 0, 1, 0, 0};
    CHECK_EQ_INT(decode_bytes(&metadata_req, 9, cmax, sizeof cmax, &mq, &a, NULL), -EBADMSG);

    /* nested: a produce topic announcing 1000 partitions */
    static const uint8_t prod[] = {0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't',
                                   0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    kafka_produce_req pq;
    CHECK_EQ_INT(decode_bytes(&produce_req, 3, prod, sizeof prod, &pq, &a, NULL), -EBADMSG);
    /* the same with a count of 1 is fine: the vector is otherwise valid */
    uint8_t ok[sizeof prod];
    memcpy(ok, prod, sizeof prod);
    ok[17] = 0;
    ok[18] = 1;
    size_t left = 1;
    CHECK_EQ_INT(decode_bytes(&produce_req, 3, ok, sizeof ok, &pq, &a, &left), 0);
    CHECK_EQ_INT(left, 0);
    CHECK(pq.n_topic_data == 1 && pq.topic_data[0].n_partition_data == 1 &&
          pq.topic_data[0].partition_data[0].records.len == -1);
    arena_free(&a);
}

static void test_bad_lengths(void) {
    arena a;
    arena_init(&a);
    kafka_metadata_req mq;
    /* compact string of 15 bytes, one present */
    static const uint8_t longname[] = {2, 0x10, 't', 0, 1, 0, 0};
    CHECK_EQ_INT(decode_bytes(&metadata_req, 9, longname, sizeof longname, &mq, &a, NULL), -EBADMSG);
    /* null name where v9 does not allow it; v10 does (with a topic id) */
    static const uint8_t nullname[] = {2, 0, 0, 1, 0, 0, 0};
    CHECK_EQ_INT(decode_bytes(&metadata_req, 9, nullname, sizeof nullname, &mq, &a, NULL), -EBADMSG);
    uint8_t v10[16 + sizeof nullname];
    v10[0] = 2;
    memset(v10 + 1, 0x11, 16);
    memcpy(v10 + 17, nullname + 1, sizeof nullname - 1);
    size_t left = 1;
    CHECK_EQ_INT(decode_bytes(&metadata_req, 10, v10, sizeof v10, &mq, &a, &left), 0);
    CHECK_EQ_INT(left, 0);
    CHECK(mq.n_topics == 1 && mq.topics[0].name.len == -1);

    /* records longer than the frame */
    uint8_t rec[sizeof fetch_v12_want];
    memcpy(rec, fetch_v12_want, sizeof rec);
    CHECK_EQ_INT(rec[sizeof rec - 7], 4);
    rec[sizeof rec - 7] = 0x40;
    kafka_fetch_resp fr;
    CHECK_EQ_INT(decode_bytes(&fetch_resp, 12, rec, sizeof rec, &fr, &a, NULL), -EBADMSG);
    /* a tagged field whose size runs past the end */
    uint8_t tagged[sizeof fetch_v12_want + 3];
    memcpy(tagged, fetch_v12_want, sizeof fetch_v12_want);
    tagged[sizeof fetch_v12_want - 1] = 1; /* one response tag */
    tagged[sizeof fetch_v12_want] = 0;     /* tag 0 (NodeEndpoints: unknown at v12) */
    tagged[sizeof fetch_v12_want + 1] = 5; /* size 5, one byte follows */
    tagged[sizeof fetch_v12_want + 2] = 0;
    CHECK_EQ_INT(decode_bytes(&fetch_resp, 12, tagged, sizeof tagged, &fr, &a, NULL), -EBADMSG);
    tagged[sizeof fetch_v12_want + 1] = 1; /* size 1: skipped */
    CHECK_EQ_INT(decode_bytes(&fetch_resp, 12, tagged, sizeof tagged, &fr, &a, &left), 0);
    CHECK_EQ_INT(left, 0);
    arena_free(&a);
}

int main(void) {
    RUN(test_produce_roundtrip);
    RUN(test_fetch_roundtrip);
    RUN(test_listoffsets_roundtrip);
    RUN(test_metadata_roundtrip);
    RUN(test_offsetforleaderepoch_roundtrip);
    RUN(test_initproducerid_roundtrip);
    RUN(test_metadata_v1_vector);
    RUN(test_produce_v3_vector);
    RUN(test_fetch_v12_vector);
    RUN(test_fetch_v12_tags);
    RUN(test_lying_counts);
    RUN(test_bad_lengths);
    return unit_done();
}
