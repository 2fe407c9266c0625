/* api_producer.c — the idempotent producer: InitProducerId (a producer id
 * from the controller) and DescribeProducers (each partition's producer
 * state, from the brokers that own them).
 *
 * Transactions are not offered: an InitProducerId with a transactional id
 * is answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which the Java client
 * reports at once as a fatal TransactionalIdAuthorizationException (Kafka's
 * own answer without a transaction coordinator, COORDINATOR_NOT_AVAILABLE,
 * would make clients retry until their timeout). docs/delivery.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "fe_errors.h"
#include "kafka_describeproducers.h"
#include "kafka_initproducerid.h"
#include "log.h"
#include "route.h"
#include "stats.h"

/* ---- InitProducerId ----------------------------------------------------------- */

typedef struct ipid_ctx {
    fe_req *req;
    kafka_initproducerid_resp resp;
} ipid_ctx;

static void ipid_finish(ipid_ctx *c) {
    fe_req *req = c->req;
    if (c->resp.error_code)
        fe_stats_request_error(req->worker->stats, KAFKA_INIT_PRODUCER_ID);
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_initproducerid_resp_encode(&w, req->hdr.api_version, &c->resp);
    fe_req_finish(req, &w);
}

static void ipid_on_reply(int err, rpc_frame *reply, void *arg) {
    ipid_ctx *c = arg;
    Eddy__AllocProducerIdResult *res = NULL;
    if (!err && reply->hdr->status == EDDY__STATUS__OK)
        res = (Eddy__AllocProducerIdResult *)rpc_frame_unpack_body(
            reply, &eddy__alloc_producer_id_result__descriptor);
    if (res && res->status == EDDY__STATUS__OK && res->producer_id >= 0 &&
        res->producer_epoch >= 0 && res->producer_epoch <= INT16_MAX) {
        c->resp.producer_id = res->producer_id;
        c->resp.producer_epoch = (int16_t)res->producer_epoch;
    } else {
        /* controller unreachable, moving or failing to store: every client
         * retries this one (retriable for idempotent producers) */
        c->resp.error_code = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (res)
        protobuf_c_message_free_unpacked(&res->base, NULL);
    ipid_finish(c);
}

void fe_api_init_producer_id(fe_req *req) {
    ipid_ctx *c = arena_calloc(&req->arena, 1, sizeof *c);
    kafka_initproducerid_req in;
    if (!c) {
        fe_req_fail(req, "out of memory");
        return;
    }
    if (kafka_initproducerid_req_decode(&req->body, req->hdr.api_version, &req->arena, &in) < 0) {
        fe_req_fail(req, "malformed InitProducerId request");
        return;
    }
    c->req = req;
    c->resp.producer_id = -1;
    c->resp.producer_epoch = -1;
    if (in.transactional_id.len >= 0) {
        c->resp.error_code = KAFKA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        ipid_finish(c);
        return;
    }
    /* Kafka: IdempotentWrite on the cluster or Write on any topic; here the
     * Send right, whatever the EntityPath scope (the Java client's default
     * producer is idempotent) */
    if (!(req->conn->rights & FE_RIGHT_SEND)) {
        c->resp.error_code = KAFKA_ERR_CLUSTER_AUTHORIZATION_FAILED;
        ipid_finish(c);
        return;
    }
    Eddy__AllocProducerIdRequest q = EDDY__ALLOC_PRODUCER_ID_REQUEST__INIT;
    q.producer_id = in.producer_id;
    q.producer_epoch = in.producer_epoch;
    fe_route *route = req->worker->route;
    rpc_client *ctl = fe_route_controller(route);
    if (!ctl || !rpc_client_call(ctl, EDDY__METHOD__ALLOC_PRODUCER_ID, fe_route_version(route),
                                 &q.base, NULL, req->worker->conf->request_timeout_ms,
                                 ipid_on_reply, c)) {
        c->resp.error_code = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
        ipid_finish(c);
    }
}

/* ---- DescribeProducers ------------------------------------------------------- */

typedef struct dp_part {
    kafka_describeproducers_partition *out;
    const char *topic;          /* arena copy */
    kafka_uuid topic_id;
    int32_t broker_id;
    uint32_t epoch;
    bool pending;               /* to be sent */
} dp_part;

typedef struct dp_ctx {
    fe_req *req;
    kafka_describeproducers_req in;
    kafka_describeproducers_resp resp;
    dp_part *parts;
    int n_parts;
    int outstanding;
} dp_ctx;

typedef struct dp_call {
    dp_ctx *ctx;
    int *idx;
    int n;
} dp_call;

static void dp_finish(dp_ctx *c) {
    fe_req *req = c->req;
    for (int i = 0; i < c->n_parts; i++)
        if (c->parts[i].out->error_code)
            fe_stats_request_error(req->worker->stats, KAFKA_DESCRIBE_PRODUCERS);
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_describeproducers_resp_encode(&w, req->hdr.api_version, &c->resp);
    fe_req_finish(req, &w);
}

static void dp_fill(dp_ctx *c, kafka_describeproducers_partition *out,
                    const Eddy__DescribeProducersPartitionResult *pr) {
    out->error_code = fe_kafka_error_from_status(pr->status);
    if (pr->status != EDDY__STATUS__OK || pr->n_producers == 0)
        return;
    out->active_producers = arena_calloc(&c->req->arena, pr->n_producers,
                                         sizeof *out->active_producers);
    if (!out->active_producers) {
        out->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    out->n_active_producers = (int32_t)pr->n_producers;
    for (size_t k = 0; k < pr->n_producers; k++) {
        const Eddy__ProducerStateInfo *ps = pr->producers[k];
        out->active_producers[k] = (kafka_describeproducers_producer){
            .producer_id = ps->producer_id,
            .producer_epoch = ps->producer_epoch,
            .last_sequence = ps->last_sequence,
            .last_timestamp = ps->last_timestamp,
            .coordinator_epoch = -1,
            .current_txn_start_offset = -1,
        };
    }
}

static void dp_on_reply(int err, rpc_frame *reply, void *arg) {
    dp_call *dc = arg;
    dp_ctx *c = dc->ctx;
    Eddy__DescribeProducersResponse *res = NULL;
    int16_t all_err = 0;
    if (err) {
        all_err = fe_kafka_error_from_rpc_errno(err);
    } else if (reply->hdr->status != EDDY__STATUS__OK) {
        all_err = fe_kafka_error_from_status(reply->hdr->status);
    } else {
        res = (Eddy__DescribeProducersResponse *)rpc_frame_unpack_body(
            reply, &eddy__describe_producers_response__descriptor);
        if (!res || res->n_partitions != (size_t)dc->n)
            all_err = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
    }
    for (int i = 0; i < dc->n; i++) {
        kafka_describeproducers_partition *out = c->parts[dc->idx[i]].out;
        if (all_err)
            out->error_code = all_err;
        else
            dp_fill(c, out, res->partitions[i]);
    }
    if (res)
        protobuf_c_message_free_unpacked(&res->base, NULL);
    if (--c->outstanding == 0)
        dp_finish(c);
}

/* One DESCRIBE_PRODUCERS per broker, for its pending partitions. */
static void dp_send(dp_ctx *c) {
    fe_req *req = c->req;
    fe_route *route = req->worker->route;
    c->outstanding = 1; /* guard: no completion before every call is sent */
    for (int i = 0; i < c->n_parts; i++) {
        if (!c->parts[i].pending)
            continue;
        int32_t broker = c->parts[i].broker_id;
        int n = 0;
        for (int j = i; j < c->n_parts; j++)
            if (c->parts[j].pending && c->parts[j].broker_id == broker)
                n++;
        dp_call *dc = arena_alloc(&req->arena, sizeof *dc);
        int *idx = arena_calloc(&req->arena, (size_t)n, sizeof *idx);
        Eddy__DescribeProducersPartition *pp = arena_calloc(&req->arena, (size_t)n, sizeof *pp);
        Eddy__DescribeProducersPartition **ppp = arena_calloc(&req->arena, (size_t)n, sizeof *ppp);
        if (dc) {
            dc->ctx = c;
            dc->idx = idx;
            dc->n = 0;
        }
        for (int j = i; j < c->n_parts; j++) {
            dp_part *p = &c->parts[j];
            if (!p->pending || p->broker_id != broker)
                continue;
            p->pending = false;
            if (!dc || !idx || !pp || !ppp) {
                p->out->error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            Eddy__DescribeProducersPartition *e = &pp[dc->n];
            eddy__describe_producers_partition__init(e);
            e->topic = (char *)p->topic;
            e->topic_id.data = p->topic_id.b;
            e->topic_id.len = 16;
            e->partition = p->out->partition_index;
            e->epoch = p->epoch;
            ppp[dc->n] = e;
            idx[dc->n++] = j;
        }
        if (!dc || !idx || !pp || !ppp)
            continue;
        Eddy__DescribeProducersRequest q = EDDY__DESCRIBE_PRODUCERS_REQUEST__INIT;
        q.n_partitions = (size_t)dc->n;
        q.partitions = ppp;
        rpc_client *bc = fe_route_broker(route, broker);
        c->outstanding++;
        if (!bc || !rpc_client_call(bc, EDDY__METHOD__DESCRIBE_PRODUCERS, fe_route_version(route),
                                    &q.base, NULL, req->worker->conf->request_timeout_ms,
                                    dp_on_reply, dc)) {
            c->outstanding--;
            for (int k = 0; k < dc->n; k++)
                c->parts[idx[k]].out->error_code = KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
        }
    }
    if (--c->outstanding == 0)
        dp_finish(c);
}

void fe_api_describe_producers(fe_req *req) {
    dp_ctx *c = arena_calloc(&req->arena, 1, sizeof *c);
    if (!c) {
        fe_req_fail(req, "out of memory");
        return;
    }
    c->req = req;
    if (kafka_describeproducers_req_decode(&req->body, req->hdr.api_version, &req->arena,
                                           &c->in) < 0) {
        fe_req_fail(req, "malformed DescribeProducers request");
        return;
    }
    int nt = c->in.n_topics;
    c->resp.n_topics = nt;
    c->resp.topics = arena_calloc(&req->arena, (size_t)(nt ? nt : 1), sizeof *c->resp.topics);
    for (int t = 0; t < nt; t++)
        c->n_parts += c->in.topics[t].n_partition_indexes;
    c->parts = arena_calloc(&req->arena, (size_t)(c->n_parts ? c->n_parts : 1), sizeof *c->parts);
    if (!c->resp.topics || !c->parts) {
        fe_req_fail(req, "out of memory");
        return;
    }
    fe_route *route = req->worker->route;
    int k = 0;
    for (int t = 0; t < nt; t++) {
        kafka_describeproducers_topic *tin = &c->in.topics[t];
        kafka_describeproducers_topic_resp *tout = &c->resp.topics[t];
        tout->name = tin->name;
        tout->n_partitions = tin->n_partition_indexes;
        tout->partitions = arena_calloc(&req->arena,
                                        (size_t)(tin->n_partition_indexes ? tin->n_partition_indexes : 1),
                                        sizeof *tout->partitions);
        if (!tout->partitions) {
            fe_req_fail(req, "out of memory");
            return;
        }
        size_t nlen = tin->name.len > 0 ? (size_t)tin->name.len : 0;
        /* Kafka: Read on the topic; here the Listen right and the scope */
        int16_t terr = fe_auth_topic(req->conn, FE_RIGHT_LISTEN, tin->name.ptr, nlen);
        const fe_route_topic *rt = terr ? NULL : fe_route_topic_by_name(route, tin->name.ptr, nlen);
        if (!terr && !rt)
            terr = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        const char *name = rt ? arena_strndup(&req->arena, tin->name.ptr, nlen) : NULL;
        for (int p = 0; p < tin->n_partition_indexes; p++, k++) {
            kafka_describeproducers_partition *out = &tout->partitions[p];
            dp_part *dp = &c->parts[k];
            out->partition_index = tin->partition_indexes[p];
            out->error_message = (kafka_str){NULL, -1};
            dp->out = out;
            const Eddy__PartitionPlacement *pl =
                rt ? fe_route_partition(rt, out->partition_index) : NULL;
            if (terr || !pl || !name) {
                out->error_code = terr ? terr
                                       : !pl ? KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION
                                             : KAFKA_ERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            dp->topic = name;
            dp->topic_id = rt->id;
            dp->broker_id = pl->broker_id;
            dp->epoch = pl->epoch;
            dp->pending = true;
        }
    }
    dp_send(c);
}
