/* producer_state.c — idempotent producers (see producer_state.h).
 *
 * Rules, as Kafka's ProducerStateManager applies them to client appends:
 *  - a batch with producerId -1 is not idempotent: no checks, no state;
 *  - no state for the producer (never seen here, or expired): accepted with
 *    any sequence (Kafka >= 2.5, KIP-360: the log may have lost the state
 *    through retention, a partition move or expiry);
 *  - an epoch older than the known one: INVALID_PRODUCER_EPOCH;
 *  - a newer epoch: its first sequence must be 0 (the client reset it);
 *  - the same epoch: one of the remembered batches (same first and last
 *    sequence) is a duplicate, answered with its original base offset and
 *    not appended; otherwise the first sequence must follow the last one.
 * Anything else is OUT_OF_ORDER_SEQUENCE_NUMBER. */
#include "producer_state.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "kafka_records.h"
#include "log.h"
#include "server.h"

#define PROD_VALUE_VERSION 1
#define PROD_KEY_LEN 12
#define META_PRODUCER_IDS "producer_ids.next"
/* An epoch this high cannot be bumped (Kafka: Short.MaxValue - 1). */
#define PROD_EPOCH_MAX 32766
/* Expired entries deleted per sweep (one sweep per new producer). */
#define SWEEP_MAX 1024

/* ---- encoding ---- */


static void prod_key(uint8_t k[PROD_KEY_LEN], uint32_t part_id, int64_t producer_id) {
    be_put32(k, part_id);
    be_put64(k + 4, (uint64_t)producer_id);
}

size_t br_prod_encode(const br_prod_entry *e, uint8_t *buf) {
    memset(buf, 0, 24);
    buf[0] = PROD_VALUE_VERSION;
    buf[2] = (uint8_t)((uint16_t)e->epoch >> 8);
    buf[3] = (uint8_t)e->epoch;
    be_put64(buf + 4, (uint64_t)e->last_write_ms);
    be_put64(buf + 12, (uint64_t)e->last_timestamp);
    buf[20] = (uint8_t)e->n;
    uint8_t *p = buf + 24;
    for (int i = 0; i < e->n; i++, p += 16) {
        be_put32(p, (uint32_t)e->batches[i].first_seq);
        be_put32(p + 4, (uint32_t)e->batches[i].last_seq);
        be_put64(p + 8, (uint64_t)e->batches[i].base_offset);
    }
    return (size_t)(p - buf);
}

int br_prod_decode(const void *v, size_t len, br_prod_entry *out) {
    const uint8_t *p = v;
    if (len < 24 || p[0] != PROD_VALUE_VERSION || p[20] > BR_PRODUCER_BATCHES ||
        len != 24 + 16 * (size_t)p[20])
        return -EIO;
    out->epoch = (int16_t)(uint16_t)(p[2] << 8 | p[3]);
    out->last_write_ms = (int64_t)be_get64(p + 4);
    out->last_timestamp = (int64_t)be_get64(p + 12);
    out->n = p[20];
    p += 24;
    for (int i = 0; i < out->n; i++, p += 16) {
        out->batches[i].first_seq = (int32_t)be_get32(p);
        out->batches[i].last_seq = (int32_t)be_get32(p + 4);
        out->batches[i].base_offset = (int64_t)be_get64(p + 8);
    }
    return 0;
}

/* ---- the rules ---- */

int32_t br_prod_last_seq(int32_t first_seq, int32_t last_offset_delta) {
    /* as Kafka's DefaultRecordBatch.incrementSequence */
    if (first_seq > INT32_MAX - last_offset_delta)
        return last_offset_delta - (INT32_MAX - first_seq) - 1;
    return first_seq + last_offset_delta;
}

static bool in_sequence(int32_t last_seq, int32_t next_first) {
    return next_first == (last_seq == INT32_MAX ? 0 : last_seq + 1);
}

br_prod_verdict br_prod_check(const br_prod_entry *e, int16_t epoch, int32_t first_seq,
                              int32_t last_seq, int64_t *dup_base) {
    if (epoch < 0 || first_seq < 0)
        return BR_PROD_INVALID;
    if (!e)
        return BR_PROD_APPEND;
    if (epoch < e->epoch)
        return BR_PROD_STALE_EPOCH;
    if (epoch > e->epoch)
        return first_seq == 0 ? BR_PROD_APPEND : BR_PROD_OUT_OF_ORDER;
    for (int i = 0; i < e->n; i++) {
        if (e->batches[i].first_seq == first_seq && e->batches[i].last_seq == last_seq) {
            *dup_base = e->batches[i].base_offset;
            return BR_PROD_DUPLICATE;
        }
    }
    if (e->n == 0 || in_sequence(e->batches[e->n - 1].last_seq, first_seq))
        return BR_PROD_APPEND;
    return BR_PROD_OUT_OF_ORDER;
}

void br_prod_record(br_prod_entry *e, bool known, int16_t epoch, int32_t first_seq,
                    int32_t last_seq, int64_t base_offset, int64_t max_timestamp,
                    int64_t now_ms) {
    if (!known || epoch != e->epoch) {
        memset(e, 0, sizeof *e);
        e->epoch = epoch;
    }
    if (e->n == BR_PRODUCER_BATCHES) {
        memmove(&e->batches[0], &e->batches[1], (BR_PRODUCER_BATCHES - 1) * sizeof e->batches[0]);
        e->n--;
    }
    e->batches[e->n++] = (br_prod_batch){first_seq, last_seq, base_offset};
    e->last_write_ms = now_ms;
    e->last_timestamp = max_timestamp;
}

bool br_prod_expired(const br_prod_entry *e, int64_t now_ms, int64_t expiration_ms) {
    return now_ms - e->last_write_ms >= expiration_ms;
}

int br_producers_status(br_prod_verdict v) {
    switch (v) {
    case BR_PROD_OUT_OF_ORDER: return EDDY__STATUS__OUT_OF_ORDER_SEQUENCE;
    case BR_PROD_STALE_EPOCH: return EDDY__STATUS__PRODUCER_EPOCH_STALE;
    case BR_PROD_INVALID: return EDDY__STATUS__INVALID_PRODUCER_BATCH;
    default: return EDDY__STATUS__OK;
    }
}

/* ---- storage ---- */

int br_producers_open(br_store *s) {
    MDB_dbi d;
    return br_store_open_db(s, BR_PRODUCERS_DB, &d);
}

/* Delete expired producers of @p part_id (at most SWEEP_MAX), except @p keep. */
static int sweep(br_store *s, MDB_txn *txn, uint32_t part_id, int64_t keep, int64_t now_ms) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, br_store_dbi(s, BR_PRODUCERS_DB), &cur);
    if (rc)
        return br_store_error(rc);
    uint8_t kb[PROD_KEY_LEN];
    prod_key(kb, part_id, 0);
    MDB_val k = {PROD_KEY_LEN, kb}, v;
    int deleted = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && deleted < SWEEP_MAX;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != PROD_KEY_LEN || be_get32(k.mv_data) != part_id)
            break;
        br_prod_entry e;
        if ((int64_t)be_get64((const uint8_t *)k.mv_data + 4) == keep)
            continue;
        /* a damaged value is dropped too: it can only refuse good batches */
        if (br_prod_decode(v.mv_data, v.mv_size, &e) == 0 &&
            !br_prod_expired(&e, now_ms, BR_PRODUCER_ID_EXPIRATION_MS))
            continue;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        deleted++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : br_store_error(rc);
}

/* The stored state under key @p k: *known is false when there is none or
 * it cannot be read (no state: batches are accepted). Returns 0 or -errno. */
static int entry_load(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, br_prod_entry *e, bool *known) {
    MDB_val v;
    int rc = mdb_get(txn, dbi, k, &v);
    *known = rc == 0 && br_prod_decode(v.mv_data, v.mv_size, e) == 0;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : br_store_error(rc);
}

static int entry_store(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, const br_prod_entry *e) {
    uint8_t vb[BR_PROD_VALUE_MAX];
    MDB_val v = {br_prod_encode(e, vb), vb};
    int rc = mdb_put(txn, dbi, k, &v, 0);
    return rc ? br_store_error(rc) : 0;
}

int br_producers_append(br_store *s, MDB_txn *txn, br_append *it, int64_t now_ms) {
    it->producer = BR_PROD_PLAIN;
    kafka_batch b, first = {0};
    size_t off = 0;
    int nb = 0;
    bool idem = false;
    while (kafka_records_next(it->batches, it->len, &off, &b) == 1) {
        if (nb++ == 0)
            first = b;
        if (b.producer_id >= 0)
            idem = true;
    }
    if (!idem)
        return br_plog_append(s, txn, it->part, it->batches, it->len, it->leader_epoch,
                              it->log_append_time, &it->base_offset);
    if (nb != 1 || (first.attributes & (KAFKA_ATTR_TRANSACTIONAL | KAFKA_ATTR_CONTROL))) {
        /* Kafka takes one batch per partition from v3 on; transactions are
         * not offered */
        it->producer = BR_PROD_INVALID;
        return 1;
    }
    int32_t last_seq = br_prod_last_seq(first.base_sequence, first.last_offset_delta);
    uint8_t kb[PROD_KEY_LEN];
    prod_key(kb, it->part->part_id, first.producer_id);
    MDB_dbi dbi = br_store_dbi(s, BR_PRODUCERS_DB);
    MDB_val k = {PROD_KEY_LEN, kb};
    br_prod_entry e;
    bool known;
    int r = entry_load(txn, dbi, &k, &e, &known);
    if (r < 0)
        return r;
    known = known && !br_prod_expired(&e, now_ms, BR_PRODUCER_ID_EXPIRATION_MS);
    int64_t dup = -1;
    br_prod_verdict vd =
        br_prod_check(known ? &e : NULL, first.producer_epoch, first.base_sequence, last_seq, &dup);
    it->producer = vd;
    if (vd == BR_PROD_DUPLICATE) {
        it->base_offset = dup;
        return 0;
    }
    if (vd != BR_PROD_APPEND)
        return 1;
    r = br_plog_append(s, txn, it->part, it->batches, it->len, it->leader_epoch,
                       it->log_append_time, &it->base_offset);
    if (r < 0)
        return r;
    br_prod_record(&e, known, first.producer_epoch, first.base_sequence, last_seq,
                   it->base_offset, first.max_timestamp, now_ms);
    if ((r = entry_store(txn, dbi, &k, &e)) < 0)
        return r;
    /* a producer new here: forget the ones gone silent (amortised expiry) */
    if (!known)
        return sweep(s, txn, it->part->part_id, first.producer_id, now_ms);
    return 0;
}

int br_producers_replay(br_store *s, MDB_txn *txn, uint32_t part_id, const uint8_t *batches,
                        size_t len, int64_t now_ms) {
    MDB_dbi dbi = br_store_dbi(s, BR_PRODUCERS_DB);
    kafka_batch b;
    size_t off = 0;
    int r;
    while ((r = kafka_records_next(batches, len, &off, &b)) == 1) {
        if (b.producer_id < 0 || (b.attributes & (KAFKA_ATTR_TRANSACTIONAL | KAFKA_ATTR_CONTROL)))
            continue;
        uint8_t kb[PROD_KEY_LEN];
        prod_key(kb, part_id, b.producer_id);
        MDB_val k = {PROD_KEY_LEN, kb};
        br_prod_entry e;
        bool known;
        int rc = entry_load(txn, dbi, &k, &e, &known);
        if (rc < 0)
            return rc;
        br_prod_record(&e, known, b.producer_epoch, b.base_sequence,
                       br_prod_last_seq(b.base_sequence, b.last_offset_delta), b.base_offset,
                       b.max_timestamp, now_ms);
        if ((rc = entry_store(txn, dbi, &k, &e)) < 0)
            return rc;
    }
    return r < 0 ? -EINVAL : 0;
}

int br_producers_list(br_store *s, MDB_txn *txn, uint32_t part_id, int64_t now_ms,
                      void (*fn)(int64_t producer_id, const br_prod_entry *e, void *arg),
                      void *arg) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, br_store_dbi(s, BR_PRODUCERS_DB), &cur);
    if (rc)
        return br_store_error(rc);
    uint8_t kb[PROD_KEY_LEN];
    prod_key(kb, part_id, 0);
    MDB_val k = {PROD_KEY_LEN, kb}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != PROD_KEY_LEN || be_get32(k.mv_data) != part_id)
            break;
        br_prod_entry e;
        if (br_prod_decode(v.mv_data, v.mv_size, &e) < 0 ||
            br_prod_expired(&e, now_ms, BR_PRODUCER_ID_EXPIRATION_MS))
            continue;
        fn((int64_t)be_get64((const uint8_t *)k.mv_data + 4), &e, arg);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : br_store_error(rc);
}

/* ---- DESCRIBE_PRODUCERS ---- */

typedef struct describe_acc {
    Eddy__ProducerStateInfo **list;
    size_t n, cap;
    bool oom;
} describe_acc;

static void describe_one(int64_t producer_id, const br_prod_entry *e, void *arg) {
    describe_acc *a = arg;
    if (a->oom)
        return;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 8;
        Eddy__ProducerStateInfo **nl = realloc(a->list, nc * sizeof *nl);
        if (!nl) {
            a->oom = true;
            return;
        }
        a->list = nl;
        a->cap = nc;
    }
    Eddy__ProducerStateInfo *p = malloc(sizeof *p);
    if (!p) {
        a->oom = true;
        return;
    }
    eddy__producer_state_info__init(p);
    p->producer_id = producer_id;
    p->producer_epoch = e->epoch;
    p->last_sequence = e->n ? e->batches[e->n - 1].last_seq : -1;
    p->last_timestamp = e->last_timestamp;
    a->list[a->n++] = p;
}

static Eddy__Status describe_partition(br_server *s, const Eddy__DescribeProducersPartition *dp,
                                       describe_acc *acc) {
    const Eddy__TopicInfo *t;
    Eddy__Status st =
        br_map_check(s->map, s->self_id, dp->topic, &dp->topic_id, dp->partition, &t, NULL);
    if (st != EDDY__STATUS__OK)
        return st;
    br_part *part;
    int r = br_plog_open(s->store, t->topic_id.data, dp->partition, false, &part);
    if (r == -ENOENT)
        return EDDY__STATUS__OK; /* never written: no producers */
    MDB_txn *txn = NULL;
    if (r == 0)
        r = br_store_read_begin(s->store, &txn);
    if (r == 0) {
        r = br_producers_list(s->store, txn, part->part_id, br_now_ms(), describe_one, acc);
        br_store_read_end(s->store, txn);
    }
    if (r == 0 && acc->oom)
        r = -ENOMEM;
    if (r < 0) {
        eddy_log_err(r, "describe_producers", "reading %s/%d", t->name, dp->partition);
        return EDDY__STATUS__STORAGE_ERROR;
    }
    return EDDY__STATUS__OK;
}

void br_producers_describe(br_server *s, rpc_call *call) {
    Eddy__DescribeProducersRequest *req = (Eddy__DescribeProducersRequest *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__describe_producers_request__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    size_t n = req->n_partitions;
    Eddy__DescribeProducersPartitionResult *res = calloc(n ? n : 1, sizeof *res);
    Eddy__DescribeProducersPartitionResult **resp = calloc(n ? n : 1, sizeof *resp);
    describe_acc *accs = calloc(n ? n : 1, sizeof *accs);
    if (!res || !resp || !accs) {
        free(res);
        free(resp);
        free(accs);
        eddy__describe_producers_request__free_unpacked(req, NULL);
        rpc_call_reply(call, EDDY__STATUS__UNAVAILABLE, NULL, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        eddy__describe_producers_partition_result__init(&res[i]);
        res[i].status = describe_partition(s, req->partitions[i], &accs[i]);
        if (res[i].status == EDDY__STATUS__OK) {
            res[i].n_producers = accs[i].n;
            res[i].producers = accs[i].list;
        }
        resp[i] = &res[i];
    }
    Eddy__DescribeProducersResponse out = EDDY__DESCRIBE_PRODUCERS_RESPONSE__INIT;
    out.n_partitions = n;
    out.partitions = resp;
    rpc_call_reply(call, EDDY__STATUS__OK, &out.base, NULL);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < accs[i].n; j++)
            free(accs[i].list[j]);
        free(accs[i].list);
    }
    free(accs);
    free(res);
    free(resp);
    eddy__describe_producers_request__free_unpacked(req, NULL);
}

/* ---- producer ids (controller) ---- */

int br_producer_ids_alloc(br_store *s, br_producer_ids *ids, int64_t producer_id,
                          int32_t epoch, int64_t *out_id, int16_t *out_epoch) {
    if (!ids->loaded) {
        void *val;
        size_t len;
        int r = br_store_meta_get(s, META_PRODUCER_IDS, &val, &len);
        if (r == 0) {
            if (len != 8) {
                free(val);
                return -EIO;
            }
            ids->next = ids->limit = (int64_t)be_get64(val);
            free(val);
        } else if (r == -ENOENT) {
            ids->next = ids->limit = 0;
        } else {
            return r;
        }
        ids->loaded = true;
    }
    /* KIP-360 bump, only for ids this controller handed out; anything else
     * (an id from a lost catalog, an exhausted epoch) gets a new id, which
     * is what Kafka answers every non-transactional producer */
    if (producer_id >= 0 && producer_id < ids->next && epoch >= 0 && epoch < PROD_EPOCH_MAX) {
        *out_id = producer_id;
        *out_epoch = (int16_t)(epoch + 1);
        return 0;
    }
    if (ids->next >= ids->limit) {
        if (ids->limit > INT64_MAX - BR_PRODUCER_ID_BLOCK)
            return -ENOSPC;
        uint8_t b[8];
        be_put64(b, (uint64_t)(ids->limit + BR_PRODUCER_ID_BLOCK));
        int r = br_store_meta_put(s, META_PRODUCER_IDS, b, sizeof b);
        if (r < 0)
            return r;
        ids->limit += BR_PRODUCER_ID_BLOCK;
    }
    *out_id = ids->next++;
    *out_epoch = 0;
    return 0;
}

void br_producer_ids_handle(br_store *s, br_producer_ids *ids, rpc_call *call) {
    Eddy__AllocProducerIdRequest *req = (Eddy__AllocProducerIdRequest *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__alloc_producer_id_request__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    Eddy__AllocProducerIdResult res = EDDY__ALLOC_PRODUCER_ID_RESULT__INIT;
    int64_t id = -1;
    int16_t epoch = -1;
    int r = br_producer_ids_alloc(s, ids, req->producer_id, req->producer_epoch, &id, &epoch);
    if (r < 0) {
        eddy_log_err(r, "controller", "allocating a producer id");
        res.status = EDDY__STATUS__STORAGE_ERROR;
    }
    res.producer_id = id;
    res.producer_epoch = epoch;
    rpc_call_reply(call, EDDY__STATUS__OK, &res.base, NULL);
    eddy__alloc_producer_id_request__free_unpacked(req, NULL);
}
