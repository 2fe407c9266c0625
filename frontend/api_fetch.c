/* api_fetch.c — Fetch: one long-polling FETCH RPC per broker that owns a
 * requested partition. When one broker answers with data while others are
 * still waiting, those are woken (FETCH_WAKE) so the client is not held for
 * max_wait_ms. Record batches from the brokers' reply frames go into the
 * response without a copy: the reply's tail stays split (the evbuffer chains
 * it arrived in), each partition's slice is moved into its own evbuffer and
 * from there into the client socket's output.
 *
 * Fetch sessions (KIP-227) are not kept: we answer session id 0, which makes
 * clients send full fetch requests, as they do with any broker that declines
 * a session. */
#include <errno.h>
#include <string.h>

#include <event2/buffer.h>

#include "api.h"
#include "auth.h"
#include "fe_errors.h"
#include "fetch_ahead.h"
#include "kafka_fetch.h"
#include "kafka_records.h"
#include "route.h"
#include "stats.h"

typedef struct fx_part {
    kafka_fetch_partition_resp *out;
    const char *topic;           /* arena copy; NULL when the topic is unknown */
    kafka_uuid topic_id;
    int32_t partition;
    int64_t fetch_offset;
    int32_t max_bytes;
    int32_t broker_id;
    uint32_t epoch;
    bool routed;
} fx_part;

typedef struct fx_ctx fx_ctx;

typedef struct fx_call {
    fx_ctx *ctx;
    int *idx;
    int n;
    int32_t broker_id;
    rpc_client *client;
    Eddy__FetchRequest q;     /* as sent (partitions in the request's arena) */
    uint64_t id;
    bool done;
} fx_call;

struct fx_ctx {
    fe_req *req;
    kafka_fetch_req in;
    kafka_fetch_resp resp;
    fx_part *parts;
    int n_parts;
    fx_call **calls;
    int n_calls;
    int outstanding;
    bool woken;
    bool sending;             /* send_calls is still sending */
    bool wake_due;            /* enough data came while sending: wake after */
    int64_t bytes;
    bool refreshed;
};

static void finish(fx_ctx *c) {
    fe_req *req = c->req;
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_fetch_resp_encode(&w, req->hdr.api_version, &c->resp);
    fe_req_finish(req, &w);
}

/* Records in the batches of @p buf (for stats), and *next the offset after
 * the last batch (unchanged when none parses): reads only each batch
 * header, stepping from batch to batch through the chains. */
static uint64_t scan_batches(struct evbuffer *buf, int64_t *next) {
    size_t len = evbuffer_get_length(buf), off = 0;
    struct evbuffer_ptr at;
    uint64_t n = 0;
    if (evbuffer_ptr_set(buf, &at, 0, EVBUFFER_PTR_SET) < 0)
        return 0;
    while (len - off >= KAFKA_BATCH_HEADER_LEN) {
        uint8_t h[KAFKA_BATCH_HEADER_LEN];
        kafka_batch b;
        if (evbuffer_copyout_from(buf, &at, h, sizeof h) != (ev_ssize_t)sizeof h ||
            kafka_batch_parse(h, sizeof h, &b) < 0 || b.total_len > len - off)
            break;
        n += (uint64_t)b.last_offset_delta + 1;
        *next = b.base_offset + b.last_offset_delta + 1;
        off += b.total_len;
        if (off == len || evbuffer_ptr_set(buf, &at, b.total_len, EVBUFFER_PTR_ADD) < 0)
            break;
    }
    return n;
}

static void on_wake_reply(int err, rpc_frame *reply, void *arg) {
    (void)err;
    (void)reply;
    (void)arg;
}

static void wake_others(fx_ctx *c) {
    if (c->woken)
        return;
    c->woken = true;
    for (int i = 0; i < c->n_calls; i++) {
        fx_call *fc = c->calls[i];
        if (fc->done || !fc->id)
            continue;
        Eddy__FetchWake wk = EDDY__FETCH_WAKE__INIT;
        wk.fetch_id = fc->id;
        /* best effort: if it fails, that broker answers at max_wait_ms */
        (void)rpc_client_call(fc->client, EDDY__METHOD__FETCH_WAKE, 0, &wk.base, NULL, 5000,
                              on_wake_reply, NULL);
    }
}

/* Send the follow-up of @p fc (same partitions, offsets @p next) ahead of
 * the client's next Fetch (fetch_ahead.h). */
static void read_ahead(fx_ctx *c, fx_call *fc, Eddy__FetchPartition *next) {
    Eddy__FetchPartition **pp = arena_calloc(&c->req->arena, (size_t)fc->n, sizeof *pp);
    if (!pp)
        return;
    for (int i = 0; i < fc->n; i++)
        pp[i] = &next[i];
    Eddy__FetchRequest q = fc->q;
    q.partitions = pp;
    fe_fetch_ahead_start(c->req->conn, fc->broker_id, fc->client,
                         fe_route_version(c->req->worker->route), &q);
}

static void on_reply(int err, rpc_frame *reply, void *arg) {
    fx_call *fc = arg;
    fx_ctx *c = fc->ctx;
    fc->done = true;
    Eddy__FetchResponse *res = NULL;
    if (!err && reply->hdr->status != EDDY__STATUS__OK) {
        int16_t e = fe_kafka_error_from_status(reply->hdr->status);
        for (int i = 0; i < fc->n; i++)
            c->parts[fc->idx[i]].out->error_code = e;
        if (fe_status_wants_refresh(reply->hdr->status) && !c->refreshed) {
            c->refreshed = true;
            fe_route_refresh(c->req->worker->route, NULL, NULL);
        }
        goto out;
    }
    if (!err) {
        res = (Eddy__FetchResponse *)rpc_frame_unpack_body(reply, &eddy__fetch_response__descriptor);
        if (!res || res->n_partitions != (size_t)fc->n)
            err = -EBADMSG;
    }
    size_t off = 0;
    /* the follow-up request a read-ahead would send; NULL: none */
    Eddy__FetchPartition *next = NULL;
    if (!err && c->req->worker->conf->fetch_ahead_bytes > 0)
        next = arena_calloc(&c->req->arena, (size_t)fc->n, sizeof *next);
    bool backlog = false;
    for (int i = 0; i < fc->n; i++) {
        kafka_fetch_partition_resp *o = c->parts[fc->idx[i]].out;
        if (err) {
            o->error_code = fe_kafka_error_from_rpc_errno(err);
            continue;
        }
        Eddy__FetchPartitionResult *pr = res->partitions[i];
        if (pr->records_len > reply->tail_len - off) {
            o->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
            off = reply->tail_len;
            next = NULL;
            continue;
        }
        o->error_code = fe_kafka_error_from_status(pr->status);
        o->high_watermark = pr->high_watermark;
        o->last_stable_offset = pr->last_stable_offset;
        o->log_start_offset = pr->log_start_offset;
        if (pr->records_len) {
            /* this partition's slice of the tail, in order: chains move */
            struct evbuffer *rb = evbuffer_new();
            if (!rb || rpc_frame_tail_move(reply, pr->records_len, rb) < 0) {
                /* a failed move may leave the tail out of step: give up
                 * on the rest of this reply */
                if (rb)
                    evbuffer_free(rb);
                o->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
                off = reply->tail_len;
                next = NULL;
                continue;
            }
            o->records.ptr = NULL;
            o->records.len = (int32_t)pr->records_len;
            o->records_buf = rb;
            c->bytes += pr->records_len;
            int64_t after = -1;
            fe_stats_records_out(c->req->worker->stats, scan_batches(rb, &after));
            if (next) {
                next[i] = *fc->q.partitions[i];
                next[i].fetch_offset = after;
                /* half the partition's limit or more: a backlog, likely more to read */
                int32_t limit = fc->q.partitions[i]->max_bytes;
                if (limit > 0 && 2 * (int64_t)pr->records_len >= limit)
                    backlog = true;
            }
        } else if (next) {
            next[i] = *fc->q.partitions[i];
        }
        if (next && (pr->status != EDDY__STATUS__OK || (pr->records_len && next[i].fetch_offset < 0)))
            next = NULL;
        off += pr->records_len;
        if (fe_status_wants_refresh(pr->status) && !c->refreshed) {
            c->refreshed = true;
            fe_route_refresh(c->req->worker->route, NULL, NULL);
        }
    }
    if (next && backlog && fe_req_conn_alive(c->req))
        read_ahead(c, fc, next);
out:
    if (res)
        protobuf_c_message_free_unpacked(&res->base, NULL);
    if (c->bytes >= (c->in.min_bytes > 0 ? c->in.min_bytes : 1) && c->outstanding > 1) {
        /* a read-ahead answers inside send_calls: calls not sent yet could
         * not be woken, so wake them once all are out */
        if (c->sending)
            c->wake_due = true;
        else
            wake_others(c);
    }
    if (--c->outstanding == 0)
        finish(c);
}

/* Answer @p fc from the connection's read-ahead for its broker when that
 * asked the same (fetch_ahead.h): its partitions are put in the
 * read-ahead's order first, which is the order of the reply. Returns false
 * when there is none: send the call. */
static bool take_ahead(fx_ctx *c, fx_call *fc) {
    if (c->req->worker->conf->fetch_ahead_bytes <= 0)
        return false;
    arena *ar = &c->req->arena;
    int *order = arena_calloc(ar, (size_t)fc->n, sizeof *order);
    if (!order)
        return false;
    fe_ahead *a = fe_fetch_ahead_find(c->req->conn, fc->broker_id, &fc->q, order);
    if (!a)
        return false;
    int *idx = arena_calloc(ar, (size_t)fc->n, sizeof *idx);
    Eddy__FetchPartition **pp = arena_calloc(ar, (size_t)fc->n, sizeof *pp);
    if (!idx || !pp) {
        /* out of memory: its reply cannot be matched up; let it go */
        fe_fetch_ahead_claim(a, on_wake_reply, NULL);
        return false;
    }
    for (int j = 0; j < fc->n; j++) {
        idx[j] = fc->idx[order[j]];
        pp[j] = fc->q.partitions[order[j]];
    }
    fc->idx = idx;
    fc->q.partitions = pp;
    /* id 0: not wakeable, and needs no wake: it was sent with max_wait 0 */
    fe_fetch_ahead_claim(a, on_reply, fc);
    return true;
}

static bool fx_pick(const void *items, int i, int32_t *broker_id) {
    const fx_part *p = &((const fx_part *)items)[i];
    *broker_id = p->broker_id;
    return p->routed;
}

static void send_calls(fx_ctx *c) {
    fe_req *req = c->req;
    fe_route *route = req->worker->route;
    c->calls = arena_calloc(&req->arena, (size_t)(c->n_parts ? c->n_parts : 1), sizeof *c->calls);
    if (!c->calls) {
        fe_req_fail(req, "out of memory");
        return;
    }
    fe_broker_group *groups;
    int ng = fe_route_group(&req->arena, c->n_parts, fx_pick, c->parts, &groups);
    if (ng < 0) {
        fe_req_fail(req, "out of memory");
        return;
    }
    int max_wait = c->in.max_wait_ms < 0 ? 0 : c->in.max_wait_ms;
    c->outstanding = 1;
    c->sending = true;
    for (int g = 0; g < ng; g++) {
        int32_t broker = groups[g].broker_id;
        int n = groups[g].n;
        int *idx = groups[g].idx;
        fx_call *fc = arena_alloc(&req->arena, sizeof *fc);
        Eddy__FetchPartition *fp = arena_calloc(&req->arena, (size_t)n, sizeof *fp);
        Eddy__FetchPartition **fpp = arena_calloc(&req->arena, (size_t)n, sizeof *fpp);
        rpc_client *bc = fe_route_broker(route, broker);
        for (int k = 0; k < n; k++)
            c->parts[idx[k]].routed = false;
        if (!fc || !fp || !fpp || !bc) {
            for (int k = 0; k < n; k++)
                c->parts[idx[k]].out->error_code = KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
            continue;
        }
        fc->ctx = c;
        fc->idx = idx;
        fc->client = bc;
        for (fc->n = 0; fc->n < n; fc->n++) {
            const fx_part *p = &c->parts[idx[fc->n]];
            Eddy__FetchPartition *e = &fp[fc->n];
            eddy__fetch_partition__init(e);
            e->topic = (char *)p->topic;
            e->topic_id.data = (uint8_t *)p->topic_id.b;
            e->topic_id.len = 16;
            e->partition = p->partition;
            e->fetch_offset = p->fetch_offset;
            e->max_bytes = p->max_bytes;
            e->epoch = p->epoch;
            fpp[fc->n] = e;
        }
        fc->broker_id = broker;
        Eddy__FetchRequest *q = &fc->q;
        eddy__fetch_request__init(q);
        /* data already in from a read-ahead: this one need not wait */
        q->max_wait_ms = c->bytes >= (c->in.min_bytes > 0 ? c->in.min_bytes : 1) ? 0 : max_wait;
        q->min_bytes = c->in.min_bytes;
        q->max_bytes = c->in.max_bytes;
        q->n_partitions = (size_t)fc->n;
        q->partitions = fpp;
        c->calls[c->n_calls++] = fc;
        c->outstanding++;
        if (take_ahead(c, fc))
            continue;
        fc->id = rpc_client_call_ex(bc, EDDY__METHOD__FETCH, fe_route_version(route), &q->base, NULL,
                                    max_wait + req->worker->conf->request_timeout_ms,
                                    RPC_CALL_SPLIT_TAIL, on_reply, fc);
        if (!fc->id) {
            c->outstanding--;
            fc->done = true;
            for (int k = 0; k < fc->n; k++)
                c->parts[idx[k]].out->error_code = KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
        }
    }
    c->sending = false;
    if (c->wake_due && c->outstanding > 1)
        wake_others(c);
    if (--c->outstanding == 0)
        finish(c);
}

/* Resolve every partition against the map; returns how many topics are
 * unknown (worth one refresh). */
static int route_all(fx_ctx *c) {
    fe_req *req = c->req;
    fe_route *route = req->worker->route;
    bool by_id = req->hdr.api_version >= 13;
    int unknown = 0;
    int k = 0;
    for (int t = 0; t < c->in.n_topics; t++) {
        kafka_fetch_topic *ft = &c->in.topics[t];
        const fe_route_topic *rt =
            by_id ? fe_route_topic_by_id(route, &ft->topic_id)
                  : fe_route_topic_by_name(route, ft->topic.ptr,
                                           ft->topic.len > 0 ? (size_t)ft->topic.len : 0);
        if (!rt)
            unknown++;
        for (int p = 0; p < ft->n_partitions; p++, k++) {
            fx_part *fp = &c->parts[k];
            kafka_fetch_partition *in = &ft->partitions[p];
            fp->partition = in->partition;
            fp->fetch_offset = in->fetch_offset;
            fp->max_bytes = in->partition_max_bytes;
            fp->routed = false;
            if (!rt) {
                fp->out->error_code = by_id ? KAFKA_ERR_UNKNOWN_TOPIC_ID
                                            : KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            int16_t e = fe_auth_topic(req->conn, FE_RIGHT_LISTEN, rt->info->name,
                                      strlen(rt->info->name));
            const Eddy__PartitionPlacement *pl = fe_route_partition(rt, in->partition);
            if (e || !pl) {
                fp->out->error_code = e ? e : KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            fp->out->error_code = KAFKA_ERR_NONE;
            fp->topic = arena_strndup(&req->arena, rt->info->name, strlen(rt->info->name));
            fp->topic_id = rt->id;
            fp->broker_id = pl->broker_id;
            fp->epoch = pl->epoch;
            fp->routed = fp->topic != NULL;
        }
    }
    return unknown;
}

static void on_refreshed(int err, void *arg) {
    (void)err;
    fx_ctx *c = arg;
    route_all(c);
    send_calls(c);
}

static int build_response(fx_ctx *c, arena *a) {
    c->resp.n_responses = c->in.n_topics;
    c->resp.responses =
        arena_calloc(a, (size_t)(c->in.n_topics ? c->in.n_topics : 1), sizeof *c->resp.responses);
    if (!c->resp.responses)
        return -ENOMEM;
    for (int t = 0; t < c->in.n_topics; t++) {
        kafka_fetch_topic *ft = &c->in.topics[t];
        kafka_fetch_topic_resp *tr = &c->resp.responses[t];
        tr->topic = ft->topic;
        tr->topic_id = ft->topic_id;
        tr->n_partitions = ft->n_partitions;
        tr->partitions =
            arena_calloc(a, (size_t)(ft->n_partitions ? ft->n_partitions : 1), sizeof *tr->partitions);
        if (!tr->partitions)
            return -ENOMEM;
        for (int p = 0; p < ft->n_partitions; p++) {
            kafka_fetch_partition_resp *o = &tr->partitions[p];
            o->partition_index = ft->partitions[p].partition;
            o->high_watermark = -1;
            o->last_stable_offset = -1;
            o->log_start_offset = -1;
            o->diverging_epoch.epoch = -1;
            o->diverging_epoch.end_offset = -1;
            o->current_leader.leader_id = -1;
            o->current_leader.leader_epoch = -1;
            o->snapshot_id.end_offset = -1;
            o->snapshot_id.epoch = -1;
            o->n_aborted_transactions = 0;
            o->preferred_read_replica = -1;
            o->records = (kafka_bytes){NULL, 0};
        }
        c->n_parts += ft->n_partitions;
    }
    c->parts = arena_calloc(a, (size_t)(c->n_parts ? c->n_parts : 1), sizeof *c->parts);
    if (!c->parts)
        return -ENOMEM;
    int k = 0;
    for (int t = 0; t < c->in.n_topics; t++)
        for (int p = 0; p < c->in.topics[t].n_partitions; p++)
            c->parts[k++].out = &c->resp.responses[t].partitions[p];
    return 0;
}

void fe_api_fetch(fe_req *req) {
    fx_ctx *c = arena_alloc(&req->arena, sizeof *c);
    if (!c) {
        fe_req_fail(req, "out of memory");
        return;
    }
    c->req = req;
    if (kafka_fetch_req_decode(&req->body, req->hdr.api_version, &req->arena, &c->in) < 0) {
        fe_req_fail(req, "malformed Fetch request");
        return;
    }
    c->resp.session_id = 0;
    if (c->in.session_id != 0) {
        /* we never hand out sessions, so no id can be valid */
        c->resp.error_code = KAFKA_ERR_FETCH_SESSION_ID_NOT_FOUND;
        finish(c);
        return;
    }
    if (build_response(c, &req->arena) < 0) {
        fe_req_fail(req, "out of memory");
        return;
    }
    if (route_all(c) > 0 || !fe_route_ready(req->worker->route)) {
        fe_route_refresh(req->worker->route, on_refreshed, c);
        return;
    }
    send_calls(c);
}
