/* data.c — PRODUCE and LIST_OFFSETS. */
#include "data.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fetch_wait.h"
#include "kafka_records.h"
#include "log.h"
#include "logscan.h"
#include "producer_state.h"

/* One produce request from unpack to reply. The frame stays referenced until
 * the commit callback: the items' batches point into its buffer and are
 * rewritten there by the writer thread. */
typedef struct produce_ctx {
    br_server *s;
    rpc_call *call;
    rpc_frame *frame;
    Eddy__ProduceRequest *req;
    Eddy__ProducePartitionResult *res;
    Eddy__ProducePartitionResult **resp;
    br_append *items;
    size_t *item_part;        /* item -> index in req->partitions */
    size_t nitems;
} produce_ctx;

static void produce_ctx_free(produce_ctx *x) {
    if (!x)
        return;
    if (x->req)
        eddy__produce_request__free_unpacked(x->req, NULL);
    free(x->res);
    free(x->resp);
    free(x->items);
    free(x->item_part);
    free(x);
}

static void produce_reply(produce_ctx *x) {
    Eddy__ProduceResponse resp = EDDY__PRODUCE_RESPONSE__INIT;
    resp.n_partitions = x->req->n_partitions;
    resp.partitions = x->resp;
    rpc_call_reply(x->call, EDDY__STATUS__OK, &resp.base, NULL);
}

/* Framing check of one partition's batches: whole v2 batches that exactly
 * fill @p len, none over @p max_bytes. CRCs were checked by the frontend. */
static Eddy__Status check_batches(const uint8_t *p, size_t len, int64_t max_bytes) {
    if (len == 0)
        return EDDY__STATUS__CORRUPT_BATCH;
    size_t off = 0;
    kafka_batch b;
    int r;
    while ((r = kafka_records_next(p, len, &off, &b)) == 1) {
        if (b.magic != 2)
            return EDDY__STATUS__CORRUPT_BATCH;
        if (max_bytes >= 0 && (int64_t)b.total_len > max_bytes)
            return EDDY__STATUS__TOO_LARGE;
    }
    return r < 0 || off != len ? EDDY__STATUS__CORRUPT_BATCH : EDDY__STATUS__OK;
}

static void produce_done(br_append *items, size_t n, void *arg) {
    produce_ctx *x = arg;
    br_server *s = x->s;
    int failed = 0, first_err = 0;
    for (size_t i = 0; i < n; i++) {
        Eddy__ProducePartitionResult *r = &x->res[x->item_part[i]];
        if (items[i].err == -EPROTO) {
            /* refused by the idempotence rules (producer_state.h) */
            r->status = (Eddy__Status)br_producers_status(items[i].producer);
            continue;
        }
        if (items[i].err < 0) {
            r->status = EDDY__STATUS__STORAGE_ERROR;
            if (!failed++)
                first_err = items[i].err;
            continue;
        }
        r->base_offset = items[i].base_offset;
        r->log_start_offset = atomic_load(&items[i].part->log_start);
        r->log_append_time = items[i].log_append_time;
    }
    if (failed)
        eddy_log_err(first_err, "produce", "%d of %zu partition appends failed", failed, n);
    produce_reply(x);
    for (size_t i = 0; i < n; i++)
        if (items[i].err == 0)
            br_fetch_notify(s, items[i].part->topic_id, items[i].part->partition);
    rpc_frame_unref(x->frame);
    produce_ctx_free(x);
    s->inflight--;
}

void br_data_produce(br_server *s, rpc_call *call) {
    rpc_frame *f = rpc_call_frame(call);
    Eddy__ProduceRequest *req =
        (Eddy__ProduceRequest *)rpc_frame_unpack_body(f, &eddy__produce_request__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < req->n_partitions; i++)
        sum += req->partitions[i]->records_len;
    if (sum != f->tail_len) {
        eddy__produce_request__free_unpacked(req, NULL);
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    size_t n = req->n_partitions;
    produce_ctx *x = calloc(1, sizeof *x);
    if (x) {
        x->req = req;
        x->res = calloc(n ? n : 1, sizeof *x->res);
        x->resp = calloc(n ? n : 1, sizeof *x->resp);
        x->items = calloc(n ? n : 1, sizeof *x->items);
        x->item_part = calloc(n ? n : 1, sizeof *x->item_part);
    }
    if (!x || !x->res || !x->resp || !x->items || !x->item_part) {
        if (x)
            produce_ctx_free(x);
        else
            eddy__produce_request__free_unpacked(req, NULL);
        rpc_call_reply(call, EDDY__STATUS__UNAVAILABLE, NULL, NULL);
        return;
    }
    x->s = s;
    x->call = call;
    x->frame = f;
    int64_t now = br_now_ms();
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const Eddy__ProducePartition *pp = req->partitions[i];
        Eddy__ProducePartitionResult *r = &x->res[i];
        eddy__produce_partition_result__init(r);
        x->resp[i] = r;
        r->base_offset = -1;
        r->log_append_time = -1;
        r->log_start_offset = -1;
        /* the frame buffer is malloc'd and owned by the frame: the batches
         * may be rewritten in place (baseOffset, leader epoch) */
        uint8_t *batches = (uint8_t *)f->tail + off;
        size_t len = pp->records_len;
        off += len;
        const Eddy__TopicInfo *t;
        const Eddy__PartitionPlacement *pl;
        r->status = br_map_check(s->map, s->self_id, pp->topic, &pp->topic_id, pp->partition, &t,
                                 &pl);
        if (r->status != EDDY__STATUS__OK)
            continue;
        r->status = check_batches(batches, len,
                                  br_map_config_i64(t, "max.message.bytes",
                                                    BR_DEFAULT_MAX_MESSAGE_BYTES));
        if (r->status != EDDY__STATUS__OK)
            continue;
        br_part *part;
        int e = br_plog_open(s->store, t->topic_id.data, pp->partition, true, &part);
        if (e < 0) {
            eddy_log_err(e, "produce", "opening %s/%d", t->name, pp->partition);
            r->status = EDDY__STATUS__STORAGE_ERROR;
            continue;
        }
        const char *tst = br_map_config(t, "message.timestamp.type");
        bool lat = tst && !strcmp(tst, "LogAppendTime");
        br_append *a = &x->items[x->nitems];
        a->part = part;
        a->batches = batches;
        a->len = len;
        a->leader_epoch = (int32_t)pl->epoch;
        a->log_append_time = lat ? now : -1;
        x->item_part[x->nitems++] = i;
    }
    if (x->nitems == 0) {
        produce_reply(x);
        produce_ctx_free(x);
        return;
    }
    rpc_frame_ref(f);
    int e = br_commit_submit(s->committer, x->items, x->nitems, produce_done, x);
    if (e < 0) {
        eddy_log_err(e, "produce", "queueing %zu appends", x->nitems);
        for (size_t i = 0; i < x->nitems; i++)
            x->res[x->item_part[i]].status = EDDY__STATUS__STORAGE_ERROR;
        produce_reply(x);
        rpc_frame_unref(f);
        produce_ctx_free(x);
        return;
    }
    s->inflight++;
}

/* ---- LIST_OFFSETS ------------------------------------------------------------ */

typedef struct max_ts_scan {
    int64_t offset, ts;
} max_ts_scan;

static int max_ts_step(const br_batch_info *b, void *arg) {
    max_ts_scan *m = arg;
    /* strictly greater: the earliest batch wins a tie, as in Kafka */
    if (b->max_timestamp > m->ts) {
        m->ts = b->max_timestamp;
        m->offset = b->base_offset;
    }
    return 0;
}

static Eddy__Status list_one(br_server *s, const Eddy__ListOffsetsPartition *lp,
                             Eddy__ListOffsetsPartitionResult *r) {
    const Eddy__TopicInfo *t;
    Eddy__Status st =
        br_map_check(s->map, s->self_id, lp->topic, &lp->topic_id, lp->partition, &t, NULL);
    if (st != EDDY__STATUS__OK)
        return st;
    br_part *part = NULL;
    int e = br_plog_open(s->store, t->topic_id.data, lp->partition, false, &part);
    if (e == -ENOENT) {
        /* owned but never written: an empty log at offset 0 */
        r->log_start_offset = 0;
        r->high_watermark = 0;
        r->size_bytes = 0;
        r->offset = lp->timestamp == -1 || lp->timestamp == -2 ? 0 : -1;
        return EDDY__STATUS__OK;
    }
    if (e < 0) {
        eddy_log_err(e, "list_offsets", "opening %s/%d", t->name, lp->partition);
        return EDDY__STATUS__STORAGE_ERROR;
    }
    r->log_start_offset = atomic_load(&part->log_start);
    r->high_watermark = atomic_load(&part->high_watermark);
    r->size_bytes = atomic_load(&part->bytes);
    if (lp->timestamp == -2 || lp->timestamp == -4) {
        /* -4 (earliest local, KIP-405): all of our log is local */
        r->offset = r->log_start_offset;
    } else if (lp->timestamp == -5) {
        /* last tiered offset (KIP-1005): nothing is tiered */
        r->offset = -1;
        r->timestamp = -1;
    } else if (lp->timestamp < 0 && lp->timestamp != -1 && lp->timestamp != -3) {
        return EDDY__STATUS__INVALID_REQUEST;
    } else if (lp->timestamp == -1) {
        r->offset = r->high_watermark;
    } else if (lp->timestamp == -3) {
        max_ts_scan m = {-1, -1};
        e = br_logscan(s->store, part, r->log_start_offset, max_ts_step, &m);
        r->offset = m.offset;
        r->timestamp = m.ts;
    } else {
        e = br_plog_offset_for_time(s->store, part, lp->timestamp, &r->offset, &r->timestamp);
        if (e == 0 && r->offset < 0)
            r->timestamp = -1;
    }
    if (e < 0) {
        eddy_log_err(e, "list_offsets", "looking up %s/%d", t->name, lp->partition);
        r->offset = -1;
        r->timestamp = -1;
        return EDDY__STATUS__STORAGE_ERROR;
    }
    return EDDY__STATUS__OK;
}

void br_data_list_offsets(br_server *s, rpc_call *call) {
    Eddy__ListOffsetsRequest *req = (Eddy__ListOffsetsRequest *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__list_offsets_request__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    size_t n = req->n_partitions;
    Eddy__ListOffsetsPartitionResult *res = calloc(n ? n : 1, sizeof *res);
    Eddy__ListOffsetsPartitionResult **resp = calloc(n ? n : 1, sizeof *resp);
    if (!res || !resp) {
        free(res);
        free(resp);
        eddy__list_offsets_request__free_unpacked(req, NULL);
        rpc_call_reply(call, EDDY__STATUS__UNAVAILABLE, NULL, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        Eddy__ListOffsetsPartitionResult *r = &res[i];
        eddy__list_offsets_partition_result__init(r);
        r->offset = -1;
        r->timestamp = -1;
        r->high_watermark = -1;
        r->log_start_offset = -1;
        r->status = list_one(s, req->partitions[i], r);
        resp[i] = r;
    }
    Eddy__ListOffsetsResponse out = EDDY__LIST_OFFSETS_RESPONSE__INIT;
    out.n_partitions = n;
    out.partitions = resp;
    /* stats scrapes of the frontend ask for the LMDB figures too */
    Eddy__StoreStats st = EDDY__STORE_STATS__INIT;
    br_store_stats ss;
    if (req->with_store_stats && br_store_get_stats(s->store, &ss) == 0) {
        st.map_size = ss.map_size;
        st.page_size = ss.page_size;
        st.used_pages = ss.last_page + 1;
        st.max_readers = (uint32_t)ss.max_readers;
        st.num_readers = (uint32_t)ss.num_readers;
        out.store = &st;
    }
    rpc_call_reply(call, EDDY__STATUS__OK, &out.base, NULL);
    free(res);
    free(resp);
    eddy__list_offsets_request__free_unpacked(req, NULL);
}
