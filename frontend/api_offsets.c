/* api_offsets.c — ListOffsets and OffsetForLeaderEpoch. Both ask the owning
 * brokers with LIST_OFFSETS (one RPC per broker) through offsets_query().
 *
 * OffsetForLeaderEpoch: a partition has one copy, so its log never diverges;
 * for the current epoch (or any older one) we answer the log end offset,
 * which tells clients there is nothing to truncate. A newer epoch than the
 * partition's gives UNKNOWN_LEADER_EPOCH, as Kafka does. */
#include <errno.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "fe_errors.h"
#include "kafka_listoffsets.h"
#include "kafka_offsetforleaderepoch.h"
#include "route.h"
#include "stats.h"

typedef struct oq_item {
    /* in */
    kafka_str topic;
    int32_t partition;
    int64_t timestamp;
    /* out */
    int16_t error;
    int64_t offset, ts, hw, log_start;
    int32_t epoch;
    /* routing */
    const char *name;
    kafka_uuid topic_id;
    int32_t broker_id;
    uint32_t map_epoch;
    bool routed;
} oq_item;

typedef struct oq {
    fe_req *req;
    oq_item *items;
    int n;
    int outstanding;
    void (*done)(struct oq *q);
    void *user;
} oq;

typedef struct oq_call {
    oq *q;
    int *idx;
    int n;
} oq_call;

static void on_reply(int err, rpc_frame *reply, void *arg) {
    oq_call *oc = arg;
    oq *q = oc->q;
    Eddy__ListOffsetsResponse *res = NULL;
    if (!err && reply->hdr->status != EDDY__STATUS__OK)
        err = -EPROTO;
    if (!err) {
        res = (Eddy__ListOffsetsResponse *)rpc_frame_unpack_body(
            reply, &eddy__list_offsets_response__descriptor);
        if (!res || res->n_partitions != (size_t)oc->n)
            err = -EBADMSG;
    }
    for (int i = 0; i < oc->n; i++) {
        oq_item *it = &q->items[oc->idx[i]];
        if (err == -EPROTO) {
            it->error = fe_kafka_error_from_status(reply->hdr->status);
        } else if (err) {
            it->error = fe_kafka_error_from_rpc_errno(err);
        } else {
            Eddy__ListOffsetsPartitionResult *r = res->partitions[i];
            it->error = fe_kafka_error_from_status(r->status);
            it->offset = r->offset;
            it->ts = r->timestamp;
            it->hw = r->high_watermark;
            it->log_start = r->log_start_offset;
        }
        if (it->error == KAFKA_ERR_NOT_LEADER_OR_FOLLOWER)
            fe_route_refresh(q->req->worker->route, NULL, NULL);
    }
    if (res)
        protobuf_c_message_free_unpacked(&res->base, NULL);
    if (--q->outstanding == 0)
        q->done(q);
}

static bool oq_pick(const void *items, int i, int32_t *broker_id) {
    const oq_item *it = &((const oq_item *)items)[i];
    *broker_id = it->broker_id;
    return it->routed;
}

static void oq_send(oq *q) {
    fe_req *req = q->req;
    fe_route *route = req->worker->route;
    fe_broker_group *groups;
    int ng = fe_route_group(&req->arena, q->n, oq_pick, q->items, &groups);
    if (ng < 0) {
        /* out of memory: every item unanswered, as when a call cannot go */
        for (int i = 0; i < q->n; i++)
            if (q->items[i].routed) {
                q->items[i].routed = false;
                q->items[i].error = KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
            }
        q->done(q);
        return;
    }
    q->outstanding = 1;
    for (int g = 0; g < ng; g++) {
        int n = groups[g].n;
        int *idx = groups[g].idx;
        oq_call *oc = arena_alloc(&req->arena, sizeof *oc);
        Eddy__ListOffsetsPartition *lp = arena_calloc(&req->arena, (size_t)n, sizeof *lp);
        Eddy__ListOffsetsPartition **lpp = arena_calloc(&req->arena, (size_t)n, sizeof *lpp);
        rpc_client *bc = fe_route_broker(route, groups[g].broker_id);
        for (int k = 0; k < n; k++) {
            oq_item *it = &q->items[idx[k]];
            it->routed = false;
            if (!oc || !lp || !lpp || !bc) {
                it->error = KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
                continue;
            }
            Eddy__ListOffsetsPartition *e = &lp[oc->n];
            eddy__list_offsets_partition__init(e);
            e->topic = (char *)it->name;
            e->topic_id.data = it->topic_id.b;
            e->topic_id.len = 16;
            e->partition = it->partition;
            e->timestamp = it->timestamp;
            e->epoch = it->map_epoch;
            lpp[oc->n++] = e;
        }
        if (!oc || !oc->n)
            continue;
        oc->q = q;
        oc->idx = idx;
        Eddy__ListOffsetsRequest rq = EDDY__LIST_OFFSETS_REQUEST__INIT;
        rq.n_partitions = (size_t)oc->n;
        rq.partitions = lpp;
        q->outstanding++;
        if (!rpc_client_call(bc, EDDY__METHOD__LIST_OFFSETS, fe_route_version(route), &rq.base,
                             NULL, req->worker->conf->request_timeout_ms, on_reply, oc)) {
            q->outstanding--;
            for (int k = 0; k < oc->n; k++)
                q->items[idx[k]].error = KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
        }
    }
    if (--q->outstanding == 0)
        q->done(q);
}

static int oq_route(oq *q) {
    fe_req *req = q->req;
    fe_route *route = req->worker->route;
    int unknown = 0;
    for (int i = 0; i < q->n; i++) {
        oq_item *it = &q->items[i];
        it->routed = false;
        it->offset = -1;
        it->ts = -1;
        it->epoch = -1;
        const fe_route_topic *t = fe_route_topic_by_name(
            route, it->topic.ptr, it->topic.len > 0 ? (size_t)it->topic.len : 0);
        if (!t) {
            it->error = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            unknown++;
            continue;
        }
        int16_t e = fe_auth_topic(req->conn, FE_RIGHT_LISTEN, t->info->name, strlen(t->info->name));
        const Eddy__PartitionPlacement *pl = fe_route_partition(t, it->partition);
        if (e || !pl) {
            it->error = e ? e : KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        it->error = KAFKA_ERR_NONE;
        it->name = arena_strndup(&req->arena, t->info->name, strlen(t->info->name));
        it->topic_id = t->id;
        it->broker_id = pl->broker_id;
        it->map_epoch = pl->epoch;
        it->epoch = (int32_t)pl->epoch;
        it->routed = it->name != NULL;
    }
    return unknown;
}

static void oq_on_refreshed(int err, void *arg) {
    (void)err;
    oq *q = arg;
    oq_route(q);
    oq_send(q);
}

static void oq_run(oq *q) {
    if (oq_route(q) > 0 || !fe_route_ready(q->req->worker->route))
        fe_route_refresh(q->req->worker->route, oq_on_refreshed, q);
    else
        oq_send(q);
}

/* ---- ListOffsets ---------------------------------------------------------- */

static void list_offsets_done(oq *q) {
    fe_req *req = q->req;
    kafka_listoffsets_resp *resp = q->user;
    int16_t v = req->hdr.api_version;
    int k = 0;
    for (int t = 0; t < resp->n_topics; t++) {
        for (int p = 0; p < resp->topics[t].n_partitions; p++, k++) {
            kafka_listoffsets_partition_resp *o = &resp->topics[t].partitions[p];
            oq_item *it = &q->items[k];
            o->error_code = it->error;
            o->timestamp = it->ts;
            o->offset = it->offset;
            o->leader_epoch = it->epoch;
            if (v == 0 && !it->error && it->offset >= 0) {
                /* v0 answers a list; one offset is what every client asks */
                int64_t *off = arena_alloc(&req->arena, sizeof *off);
                if (off) {
                    *off = it->offset;
                    o->old_style_offsets = off;
                    o->n_old_style_offsets = 1;
                }
            }
            if (it->error)
                fe_stats_request_error(req->worker->stats, KAFKA_LIST_OFFSETS);
        }
    }
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_listoffsets_resp_encode(&w, v, resp);
    fe_req_finish(req, &w);
}

void fe_api_list_offsets(fe_req *req) {
    kafka_listoffsets_req in;
    oq *q = arena_alloc(&req->arena, sizeof *q);
    kafka_listoffsets_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    if (!q || !resp) {
        fe_req_fail(req, "out of memory");
        return;
    }
    if (kafka_listoffsets_req_decode(&req->body, req->hdr.api_version, &req->arena, &in) < 0) {
        fe_req_fail(req, "malformed ListOffsets request");
        return;
    }
    int n = 0;
    for (int t = 0; t < in.n_topics; t++)
        n += in.topics[t].n_partitions;
    q->req = req;
    q->n = n;
    q->items = arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof *q->items);
    resp->n_topics = in.n_topics;
    resp->topics = arena_calloc(&req->arena, (size_t)(in.n_topics ? in.n_topics : 1),
                                sizeof *resp->topics);
    if (!q->items || !resp->topics) {
        fe_req_fail(req, "out of memory");
        return;
    }
    int k = 0;
    for (int t = 0; t < in.n_topics; t++) {
        kafka_listoffsets_topic *it = &in.topics[t];
        resp->topics[t].name = it->name;
        resp->topics[t].n_partitions = it->n_partitions;
        resp->topics[t].partitions = arena_calloc(
            &req->arena, (size_t)(it->n_partitions ? it->n_partitions : 1),
            sizeof *resp->topics[t].partitions);
        if (!resp->topics[t].partitions) {
            fe_req_fail(req, "out of memory");
            return;
        }
        for (int p = 0; p < it->n_partitions; p++, k++) {
            resp->topics[t].partitions[p].partition_index = it->partitions[p].partition_index;
            q->items[k].topic = it->name;
            q->items[k].partition = it->partitions[p].partition_index;
            q->items[k].timestamp = it->partitions[p].timestamp;
        }
    }
    q->done = list_offsets_done;
    q->user = resp;
    oq_run(q);
}

/* ---- OffsetForLeaderEpoch -------------------------------------------------- */

typedef struct ofle_ctx {
    kafka_offsetforleaderepoch_req in;
    kafka_offsetforleaderepoch_resp resp;
} ofle_ctx;

static void ofle_done(oq *q) {
    fe_req *req = q->req;
    ofle_ctx *c = q->user;
    int k = 0;
    for (int t = 0; t < c->resp.n_topics; t++) {
        for (int p = 0; p < c->resp.topics[t].n_partitions; p++, k++) {
            kafka_offsetforleaderepoch_partition_resp *o = &c->resp.topics[t].partitions[p];
            kafka_offsetforleaderepoch_partition *in = &c->in.topics[t].partitions[p];
            oq_item *it = &q->items[k];
            o->error_code = it->error;
            o->leader_epoch = -1;
            o->end_offset = -1;
            if (it->error)
                continue;
            if (in->leader_epoch > it->epoch) {
                o->error_code = KAFKA_ERR_UNKNOWN_LEADER_EPOCH;
                continue;
            }
            if (in->current_leader_epoch > it->epoch) {
                o->error_code = KAFKA_ERR_UNKNOWN_LEADER_EPOCH;
                continue;
            }
            o->leader_epoch = in->leader_epoch < 0 ? it->epoch : in->leader_epoch;
            o->end_offset = it->offset;
        }
    }
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_offsetforleaderepoch_resp_encode(&w, req->hdr.api_version, &c->resp);
    fe_req_finish(req, &w);
}

void fe_api_offset_for_leader_epoch(fe_req *req) {
    ofle_ctx *c = arena_alloc(&req->arena, sizeof *c);
    oq *q = arena_alloc(&req->arena, sizeof *q);
    if (!c || !q) {
        fe_req_fail(req, "out of memory");
        return;
    }
    if (kafka_offsetforleaderepoch_req_decode(&req->body, req->hdr.api_version, &req->arena,
                                              &c->in) < 0) {
        fe_req_fail(req, "malformed OffsetForLeaderEpoch request");
        return;
    }
    int n = 0;
    for (int t = 0; t < c->in.n_topics; t++)
        n += c->in.topics[t].n_partitions;
    q->req = req;
    q->n = n;
    q->items = arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof *q->items);
    c->resp.n_topics = c->in.n_topics;
    c->resp.topics = arena_calloc(&req->arena, (size_t)(c->in.n_topics ? c->in.n_topics : 1),
                                  sizeof *c->resp.topics);
    if (!q->items || !c->resp.topics) {
        fe_req_fail(req, "out of memory");
        return;
    }
    int k = 0;
    for (int t = 0; t < c->in.n_topics; t++) {
        kafka_offsetforleaderepoch_topic *it = &c->in.topics[t];
        c->resp.topics[t].topic = it->topic;
        c->resp.topics[t].n_partitions = it->n_partitions;
        c->resp.topics[t].partitions =
            arena_calloc(&req->arena, (size_t)(it->n_partitions ? it->n_partitions : 1),
                         sizeof *c->resp.topics[t].partitions);
        if (!c->resp.topics[t].partitions) {
            fe_req_fail(req, "out of memory");
            return;
        }
        for (int p = 0; p < it->n_partitions; p++, k++) {
            c->resp.topics[t].partitions[p].partition = it->partitions[p].partition;
            q->items[k].topic = it->topic;
            q->items[k].partition = it->partitions[p].partition;
            q->items[k].timestamp = -1; /* latest: the log end offset */
        }
    }
    q->done = ofle_done;
    q->user = c;
    oq_run(q);
}
