/* api_produce.c — Produce: validate record batches at the edge (framing,
 * CRC-32C, size), then forward each partition's batches, untouched and
 * uncopied, to the broker that owns it; one RPC per broker. A broker that
 * answers "not owner" makes us refresh the map and resend those partitions
 * (safe: nothing was appended); the client never sees it unless it persists.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api.h"
#include "auth.h"
#include "fe_errors.h"
#include "kafka_api.h"
#include "kafka_produce.h"
#include "kafka_records.h"
#include "log.h"
#include "route.h"
#include "stats.h"
#include "topics.h"

#define PRODUCE_MAX_ROUNDS 3
#define DEFAULT_MAX_MESSAGE_BYTES 1048588

typedef struct pr_part {
    kafka_produce_partition_resp *out;
    const char *topic;             /* arena copy */
    kafka_uuid topic_id;
    int32_t partition;
    kafka_bytes records;
    int32_t broker_id;
    uint32_t epoch;
    bool pending;                  /* to be sent in the next round */
} pr_part;

typedef struct pr_ctx {
    fe_req *req;
    kafka_produce_req in;
    kafka_produce_resp resp;
    pr_part *parts;
    int n_parts;
    fe_topic_want *want;
    int outstanding;               /* RPCs in flight this round */
    int round;
    bool retry;                    /* some partition asked for a refresh */
} pr_ctx;

typedef struct pr_call {
    pr_ctx *ctx;
    int *idx;                      /* parts sent in this RPC, in order */
    int n;
} pr_call;

static void finish(pr_ctx *c) {
    fe_req *req = c->req;
    for (int i = 0; i < c->n_parts; i++)
        if (c->parts[i].out->error_code)
            fe_stats_request_error(req->worker->stats, KAFKA_PRODUCE);
    if (c->in.acks == 0) {
        fe_req_finish_silent(req);
        return;
    }
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_produce_resp_encode(&w, req->hdr.api_version, &c->resp);
    fe_req_finish(req, &w);
}

static void send_round(pr_ctx *c);

static void on_refreshed(int err, void *arg) {
    (void)err; /* routing below reports what is still unknown */
    send_round(arg);
}

static void round_done(pr_ctx *c) {
    if (c->retry && c->round < PRODUCE_MAX_ROUNDS) {
        c->retry = false;
        fe_route_refresh(c->req->worker->route, on_refreshed, c);
        return;
    }
    /* partitions still pending after the last round keep their error */
    finish(c);
}

static void on_reply(int err, rpc_frame *reply, void *arg) {
    pr_call *pc = arg;
    pr_ctx *c = pc->ctx;
    Eddy__ProduceResponse *res = NULL;
    if (!err && reply->hdr->status != EDDY__STATUS__OK) {
        for (int i = 0; i < pc->n; i++) {
            pr_part *p = &c->parts[pc->idx[i]];
            p->out->error_code = fe_kafka_error_from_status(reply->hdr->status);
            if (fe_status_wants_refresh(reply->hdr->status)) {
                p->pending = true;
                c->retry = true;
            }
        }
        goto out;
    }
    if (!err) {
        res = (Eddy__ProduceResponse *)rpc_frame_unpack_body(reply,
                                                             &eddy__produce_response__descriptor);
        if (!res || res->n_partitions != (size_t)pc->n)
            err = -EBADMSG;
    }
    for (int i = 0; i < pc->n; i++) {
        pr_part *p = &c->parts[pc->idx[i]];
        if (err) {
            p->out->error_code = fe_kafka_error_from_rpc_errno(err);
            /* refused connections never delivered the batch: safe to resend */
            if (err == -ECONNREFUSED) {
                p->pending = true;
                c->retry = true;
            }
            continue;
        }
        Eddy__ProducePartitionResult *pr = res->partitions[i];
        p->out->error_code = fe_kafka_error_from_status(pr->status);
        if (pr->status == EDDY__STATUS__OK) {
            p->out->base_offset = pr->base_offset;
            p->out->log_append_time_ms = pr->log_append_time;
            p->out->log_start_offset = pr->log_start_offset;
        } else if (fe_status_wants_refresh(pr->status)) {
            p->pending = true;
            c->retry = true;
        }
    }
out:
    if (res)
        protobuf_c_message_free_unpacked(&res->base, NULL);
    if (--c->outstanding == 0)
        round_done(c);
}

/* Route pending partitions with the current map; those that cannot be routed
 * get their error now. */
static void route_pending(pr_ctx *c) {
    fe_route *route = c->req->worker->route;
    for (int i = 0; i < c->n_parts; i++) {
        pr_part *p = &c->parts[i];
        if (!p->pending)
            continue;
        const fe_route_topic *t = fe_route_topic_by_name(route, p->topic, strlen(p->topic));
        const Eddy__PartitionPlacement *pl = t ? fe_route_partition(t, p->partition) : NULL;
        if (!pl) {
            p->out->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            p->pending = false;
            continue;
        }
        p->topic_id = t->id;
        p->broker_id = pl->broker_id;
        p->epoch = pl->epoch;
    }
}

static bool pr_pick(const void *items, int i, int32_t *broker_id) {
    const pr_part *p = &((const pr_part *)items)[i];
    *broker_id = p->broker_id;
    return p->pending;
}

static void send_round(pr_ctx *c) {
    fe_req *req = c->req;
    fe_route *route = req->worker->route;
    route_pending(c);
    c->round++;
    int timeout = c->in.timeout_ms > 0 ? c->in.timeout_ms : req->worker->conf->request_timeout_ms;
    if (timeout > 300000)
        timeout = 300000;
    timeout += 1000; /* let the broker's own answer arrive first */
    fe_broker_group *groups;
    int ng = fe_route_group(&req->arena, c->n_parts, pr_pick, c->parts, &groups);
    if (ng < 0) {
        fe_req_fail(req, "out of memory");
        return;
    }
    c->outstanding = 1; /* guard: no completion before every call is sent */
    for (int g = 0; g < ng; g++) {
        int32_t broker = groups[g].broker_id;
        int n = groups[g].n;
        int *idx = groups[g].idx;
        pr_call *pc = arena_alloc(&req->arena, sizeof *pc);
        Eddy__ProducePartition *pp = arena_calloc(&req->arena, (size_t)n, sizeof *pp);
        Eddy__ProducePartition **ppp = arena_calloc(&req->arena, (size_t)n, sizeof *ppp);
        struct evbuffer *tail = evbuffer_new();
        for (int k = 0; k < n; k++)
            c->parts[idx[k]].pending = false;
        if (!pc || !pp || !ppp || !tail) {
            if (tail)
                evbuffer_free(tail);
            for (int k = 0; k < n; k++)
                c->parts[idx[k]].out->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        pc->ctx = c;
        pc->idx = idx;
        for (pc->n = 0; pc->n < n; pc->n++) {
            const pr_part *p = &c->parts[idx[pc->n]];
            Eddy__ProducePartition *e = &pp[pc->n];
            eddy__produce_partition__init(e);
            e->topic = (char *)p->topic;
            e->topic_id.data = (uint8_t *)p->topic_id.b;
            e->topic_id.len = 16;
            e->partition = p->partition;
            e->records_len = (uint32_t)p->records.len;
            e->epoch = p->epoch;
            ppp[pc->n] = e;
            /* the batches go out by reference to the request frame */
            fe_frame_ref(req->frame);
            if (evbuffer_add_reference(tail, p->records.ptr, (size_t)p->records.len,
                                       fe_frame_evbuffer_cleanup, req->frame) < 0)
                fe_frame_unref(req->frame);
        }
        Eddy__ProduceRequest q = EDDY__PRODUCE_REQUEST__INIT;
        q.acks = c->in.acks;
        q.timeout_ms = c->in.timeout_ms;
        q.n_partitions = (size_t)pc->n;
        q.partitions = ppp;
        rpc_client *bc = fe_route_broker(route, broker);
        uint64_t id = 0;
        if (bc) {
            c->outstanding++;
            id = rpc_client_call(bc, EDDY__METHOD__PRODUCE, fe_route_version(route), &q.base, tail,
                                 timeout, on_reply, pc);
            if (!id)
                c->outstanding--;
        }
        evbuffer_free(tail);
        if (!id)
            for (int k = 0; k < pc->n; k++)
                c->parts[idx[k]].out->error_code = KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
    }
    if (--c->outstanding == 0)
        round_done(c);
}

static int16_t records_error(int st) {
    switch (st) {
    case KAFKA_RECORDS_OK: return KAFKA_ERR_NONE;
    case KAFKA_RECORDS_TOO_LARGE: return KAFKA_ERR_MESSAGE_TOO_LARGE;
    /* message format v0/v1: Kafka 4 refuses them as well */
    case KAFKA_RECORDS_BAD_MAGIC: return KAFKA_ERR_UNSUPPORTED_VERSION;
    default: return KAFKA_ERR_CORRUPT_MESSAGE;
    }
}

/* Topics are known (or failed): validate and queue every partition. */
static void on_topics(fe_req *req, void *arg) {
    pr_ctx *c = arg;
    fe_route *route = req->worker->route;
    int k = 0;
    for (int t = 0; t < c->in.n_topic_data; t++) {
        kafka_produce_topic *tp = &c->in.topic_data[t];
        kafka_produce_topic_resp *tr = &c->resp.responses[t];
        int16_t topic_err = c->want[t].error;
        const fe_route_topic *rt =
            topic_err ? NULL : fe_route_topic_by_name(route, tp->name.ptr, (size_t)tp->name.len);
        size_t max_batch = DEFAULT_MAX_MESSAGE_BYTES;
        if (rt) {
            const char *mm = fe_route_topic_config(rt, "max.message.bytes");
            if (mm)
                max_batch = strtoul(mm, NULL, 10);
        }
        for (int p = 0; p < tp->n_partition_data; p++, k++) {
            kafka_produce_partition *in = &tp->partition_data[p];
            kafka_produce_partition_resp *out = &tr->partition_responses[p];
            pr_part *pp = &c->parts[k];
            pp->out = out;
            pp->partition = in->index;
            pp->records = in->records;
            if (out->error_code)
                continue; /* already refused (authorization) */
            if (topic_err) {
                out->error_code = topic_err;
                continue;
            }
            if (!fe_route_partition(rt, in->index)) {
                out->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            int nb = 0;
            int64_t nrec = 0;
            int st = in->records.len > 0
                         ? kafka_records_validate(in->records.ptr, (size_t)in->records.len,
                                                  max_batch, &nb, &nrec)
                         : KAFKA_RECORDS_EMPTY;
            out->error_code = records_error(st);
            if (st != KAFKA_RECORDS_OK)
                continue;
            fe_stats_records_in(req->worker->stats, (uint64_t)nrec);
            pp->topic = arena_strndup(&req->arena, tp->name.ptr, (size_t)tp->name.len);
            if (!pp->topic) {
                out->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            pp->pending = true;
        }
    }
    send_round(c);
}

static int build_response(pr_ctx *c, arena *a) {
    c->resp.n_responses = c->in.n_topic_data;
    c->resp.responses = arena_calloc(a, (size_t)(c->in.n_topic_data ? c->in.n_topic_data : 1),
                                     sizeof *c->resp.responses);
    c->want = arena_calloc(a, (size_t)(c->in.n_topic_data ? c->in.n_topic_data : 1),
                           sizeof *c->want);
    if (!c->resp.responses || !c->want)
        return -ENOMEM;
    for (int t = 0; t < c->in.n_topic_data; t++) {
        kafka_produce_topic *tp = &c->in.topic_data[t];
        kafka_produce_topic_resp *tr = &c->resp.responses[t];
        tr->name = tp->name;
        c->want[t].name = tp->name;
        tr->n_partition_responses = tp->n_partition_data;
        tr->partition_responses = arena_calloc(
            a, (size_t)(tp->n_partition_data ? tp->n_partition_data : 1), sizeof *tr->partition_responses);
        if (!tr->partition_responses)
            return -ENOMEM;
        for (int p = 0; p < tp->n_partition_data; p++) {
            kafka_produce_partition_resp *o = &tr->partition_responses[p];
            o->index = tp->partition_data[p].index;
            o->base_offset = -1;
            o->log_append_time_ms = -1;
            o->log_start_offset = -1;
            o->error_message = (kafka_str){NULL, -1};
            o->current_leader.leader_id = -1;
            o->current_leader.leader_epoch = -1;
        }
        c->n_parts += tp->n_partition_data;
    }
    c->parts = arena_calloc(a, (size_t)(c->n_parts ? c->n_parts : 1), sizeof *c->parts);
    if (!c->parts)
        return -ENOMEM;
    /* every part knows its response slot from the start: refusals of the
     * whole request (version, acks) finish before on_topics runs */
    int k = 0;
    for (int t = 0; t < c->in.n_topic_data; t++)
        for (int p = 0; p < c->in.topic_data[t].n_partition_data; p++)
            c->parts[k++].out = &c->resp.responses[t].partition_responses[p];
    return 0;
}

static void fail_all(pr_ctx *c, int16_t err) {
    for (int t = 0; t < c->resp.n_responses; t++)
        for (int p = 0; p < c->resp.responses[t].n_partition_responses; p++)
            c->resp.responses[t].partition_responses[p].error_code = err;
}

void fe_api_produce(fe_req *req) {
    pr_ctx *c = arena_alloc(&req->arena, sizeof *c);
    if (!c) {
        fe_req_fail(req, "out of memory");
        return;
    }
    c->req = req;
    if (kafka_produce_req_decode(&req->body, req->hdr.api_version, &req->arena, &c->in) < 0) {
        fe_req_fail(req, "malformed Produce request");
        return;
    }
    if (build_response(c, &req->arena) < 0) {
        fe_req_fail(req, "out of memory");
        return;
    }
    const kafka_api_info *api = kafka_api_lookup(KAFKA_PRODUCE);
    if (req->hdr.api_version < api->serve_from) {
        /* advertised for librdkafka's feature detection, refused as in Kafka 4 */
        fail_all(c, KAFKA_ERR_UNSUPPORTED_VERSION);
        finish(c);
        return;
    }
    if (c->in.acks != 0 && c->in.acks != 1 && c->in.acks != -1) {
        fail_all(c, KAFKA_ERR_INVALID_REQUIRED_ACKS);
        finish(c);
        return;
    }
    if (c->in.transactional_id.len >= 0) {
        /* transactions are not offered (no transaction coordinator) */
        fail_all(c, KAFKA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        finish(c);
        return;
    }
    for (int t = 0; t < c->in.n_topic_data; t++) {
        kafka_produce_topic *tp = &c->in.topic_data[t];
        int16_t e = fe_auth_topic(req->conn, FE_RIGHT_SEND, tp->name.ptr,
                                  tp->name.len > 0 ? (size_t)tp->name.len : 0);
        if (e)
            for (int p = 0; p < tp->n_partition_data; p++)
                c->resp.responses[t].partition_responses[p].error_code = e;
    }
    fe_topics_ensure(req, c->want, c->in.n_topic_data, fe_topics_may_autocreate(req), on_topics, c);
}
