/* api_group.c — the group APIs. FindCoordinator is answered here (the
 * frontend is the coordinator of every group); every other group request is
 * forwarded whole, by the GROUP RPC, to the broker that owns the group's
 * partition of __consumer_offsets, and the broker's Kafka response body is
 * written back untouched (zero-copy both ways). Requests naming several
 * groups (DescribeGroups, DeleteGroups, OffsetFetch v8+) are split into one
 * RPC per group and the answers merged; ListGroups asks every coordinator.
 * A broker that does not own the group makes us refresh the map and retry
 * once; after that the client gets NOT_COORDINATOR and looks again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api.h"
#include "auth.h"
#include "fe_errors.h"
#include "group_place.h"
#include "kafka_deletegroups.h"
#include "kafka_describegroups.h"
#include "kafka_findcoordinator.h"
#include "kafka_heartbeat.h"
#include "kafka_joingroup.h"
#include "kafka_leavegroup.h"
#include "kafka_listgroups.h"
#include "kafka_offsetcommit.h"
#include "kafka_offsetdelete.h"
#include "kafka_offsetfetch.h"
#include "kafka_syncgroup.h"
#include "log.h"
#include "route.h"
#include "stats.h"

#define GROUP_ATTEMPTS 2
#define HELD_EXTRA_MS 30000          /* JoinGroup / SyncGroup: beyond the rebalance timeout */
#define SYNC_TIMEOUT_MS (300000 + HELD_EXTRA_MS)

typedef struct gctx gctx;

/* One GROUP RPC: one group (or, for ListGroups, one broker). */
typedef struct gsub {
    gctx *c;
    kafka_str group;           /* view into the request frame */
    const uint8_t *body;       /* Kafka request body to forward */
    size_t len;
    bool body_is_frame;        /* body points into req->frame (by reference) */
    int32_t broker;            /* ListGroups: the broker asked */
    rpc_frame *reply;          /* one reference, status OK */
    int16_t err;               /* Kafka error when there is no reply */
    bool pending;              /* to be sent in the next round */
    int attempts;
} gsub;

struct gctx {
    fe_req *req;
    int16_t api, ver;
    gsub *subs;
    int n;
    bool merge;                /* answers are decoded and merged */
    int outstanding;
    int timeout_ms;
    bool retry;
    bool topic_asked;
    union {
        kafka_joingroup_req join;
        kafka_syncgroup_req sync;
        kafka_heartbeat_req hb;
        kafka_leavegroup_req leave;
        kafka_offsetcommit_req commit;
        kafka_offsetfetch_req fetch;
        kafka_offsetdelete_req odel;
        kafka_describegroups_req desc;
        kafka_deletegroups_req del;
        kafka_listgroups_req list;
    } in;
};

static kafka_str cview(const char *s) {
    return s ? (kafka_str){s, (int32_t)strlen(s)} : (kafka_str){NULL, -1};
}

/* ---- FindCoordinator ---------------------------------------------------- */

static void find_coordinator(fe_req *req) {
    kafka_findcoordinator_req in;
    if (kafka_findcoordinator_req_decode(&req->body, req->hdr.api_version, &req->arena, &in) < 0) {
        fe_req_fail(req, "malformed FindCoordinator request");
        return;
    }
    const fe_listener_conf *l = req->conn->listener;
    const fe_config *conf = req->worker->conf;
    int16_t err = KAFKA_ERR_NONE;
    if (in.key_type == 1)
        err = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE; /* no transaction coordinator */
    else if (in.key_type != 0)
        err = KAFKA_ERR_INVALID_REQUEST;
    else
        err = fe_auth_group(req->conn);
    kafka_findcoordinator_resp out = {
        .error_code = err,
        .error_message = {NULL, -1},
        .node_id = err ? -1 : conf->node_id,
        .host = err ? cview("") : cview(l->adv_host),
        .port = err ? -1 : l->adv_port,
    };
    if (req->hdr.api_version >= 4) {
        out.n_coordinators = in.n_coordinator_keys;
        out.coordinators = arena_calloc(&req->arena, (size_t)(in.n_coordinator_keys > 0 ? in.n_coordinator_keys : 1),
                                        sizeof *out.coordinators);
        if (!out.coordinators) {
            fe_req_fail(req, "out of memory");
            return;
        }
        for (int i = 0; i < in.n_coordinator_keys; i++) {
            kafka_findcoordinator_coordinator *o = &out.coordinators[i];
            o->key = in.coordinator_keys[i];
            o->error_code = err;
            o->error_message = (kafka_str){NULL, -1};
            o->node_id = out.node_id;
            o->host = out.host;
            o->port = out.port;
        }
    }
    if (err)
        fe_stats_request_error(req->worker->stats, KAFKA_FIND_COORDINATOR);
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_findcoordinator_resp_encode(&w, req->hdr.api_version, &out);
    fe_req_finish(req, &w);
}

/* ---- error answers ------------------------------------------------------ */

/* The whole answer of a single-group request failed with @p err. */
static void encode_error(gctx *c, kafka_writer *w, int16_t err) {
    arena *a = &c->req->arena;
    int16_t v = c->ver;
    switch (c->api) {
    case KAFKA_JOIN_GROUP: {
        kafka_joingroup_resp r = {.error_code = err, .generation_id = -1,
                                  .protocol_type = {NULL, -1},
                                  .protocol_name = v >= 7 ? cview(NULL) : cview(""),
                                  .leader = cview(""), .member_id = c->in.join.member_id};
        kafka_joingroup_resp_encode(w, v, &r);
        break;
    }
    case KAFKA_SYNC_GROUP: {
        kafka_syncgroup_resp r = {.error_code = err, .protocol_type = {NULL, -1},
                                  .protocol_name = {NULL, -1},
                                  .assignment = {(const uint8_t *)"", 0}};
        kafka_syncgroup_resp_encode(w, v, &r);
        break;
    }
    case KAFKA_HEARTBEAT: {
        kafka_heartbeat_resp r = {.error_code = err};
        kafka_heartbeat_resp_encode(w, v, &r);
        break;
    }
    case KAFKA_LEAVE_GROUP: {
        kafka_leavegroup_resp r = {.error_code = err};
        kafka_leavegroup_resp_encode(w, v, &r);
        break;
    }
    case KAFKA_OFFSET_COMMIT: {
        kafka_offsetcommit_req *in = &c->in.commit;
        kafka_offsetcommit_resp r = {.n_topics = in->n_topics};
        r.topics = arena_calloc(a, (size_t)(in->n_topics > 0 ? in->n_topics : 1), sizeof *r.topics);
        for (int t = 0; r.topics && t < in->n_topics; t++) {
            r.topics[t].name = in->topics[t].name;
            r.topics[t].partitions = arena_calloc(a, (size_t)(in->topics[t].n_partitions > 0 ? in->topics[t].n_partitions : 1),
                                                  sizeof *r.topics[t].partitions);
            r.topics[t].n_partitions = r.topics[t].partitions ? in->topics[t].n_partitions : 0;
            for (int p = 0; p < r.topics[t].n_partitions; p++) {
                r.topics[t].partitions[p].partition_index = in->topics[t].partitions[p].partition_index;
                r.topics[t].partitions[p].error_code = err;
            }
        }
        if (!r.topics)
            r.n_topics = 0;
        kafka_offsetcommit_resp_encode(w, v, &r);
        break;
    }
    case KAFKA_OFFSET_FETCH: {
        kafka_offsetfetch_req *in = &c->in.fetch;
        kafka_offsetfetch_resp r = {.error_code = err};
        if (v >= 8) {
            r.n_groups = in->n_groups;
            r.groups = arena_calloc(a, (size_t)(in->n_groups > 0 ? in->n_groups : 1), sizeof *r.groups);
            if (!r.groups)
                r.n_groups = 0;
            for (int i = 0; i < r.n_groups; i++) {
                r.groups[i].group_id = in->groups[i].group_id;
                r.groups[i].error_code = err;
            }
        } else if (v < 2 && in->n_topics > 0) {
            r.n_topics = in->n_topics;
            r.topics = arena_calloc(a, (size_t)in->n_topics, sizeof *r.topics);
            if (!r.topics)
                r.n_topics = 0;
            for (int t = 0; t < r.n_topics; t++) {
                r.topics[t].name = in->topics[t].name;
                int np = in->topics[t].n_partition_indexes;
                r.topics[t].partitions = arena_calloc(a, (size_t)(np > 0 ? np : 1), sizeof *r.topics[t].partitions);
                r.topics[t].n_partitions = r.topics[t].partitions ? np : 0;
                for (int p = 0; p < r.topics[t].n_partitions; p++)
                    r.topics[t].partitions[p] = (kafka_offsetfetch_resp_partition){
                        .partition_index = in->topics[t].partition_indexes[p],
                        .committed_offset = -1, .committed_leader_epoch = -1,
                        .metadata = {"", 0}, .error_code = err};
            }
        }
        kafka_offsetfetch_resp_encode(w, v, &r);
        break;
    }
    case KAFKA_OFFSET_DELETE: {
        kafka_offsetdelete_resp r = {.error_code = err};
        kafka_offsetdelete_resp_encode(w, v, &r);
        break;
    }
    case KAFKA_DESCRIBE_GROUPS: {
        kafka_describegroups_resp r = {.n_groups = c->in.desc.n_groups};
        r.groups = arena_calloc(a, (size_t)(r.n_groups > 0 ? r.n_groups : 1), sizeof *r.groups);
        if (!r.groups)
            r.n_groups = 0;
        for (int i = 0; i < r.n_groups; i++)
            r.groups[i] = (kafka_describegroups_group){
                .error_code = err, .group_id = c->in.desc.groups[i], .group_state = cview("Dead"),
                .protocol_type = cview(""), .protocol_data = cview(""),
                .authorized_operations = INT32_MIN};
        kafka_describegroups_resp_encode(w, v, &r);
        break;
    }
    case KAFKA_DELETE_GROUPS: {
        kafka_deletegroups_resp r = {.n_results = c->in.del.n_groups_names};
        r.results = arena_calloc(a, (size_t)(r.n_results > 0 ? r.n_results : 1), sizeof *r.results);
        if (!r.results)
            r.n_results = 0;
        for (int i = 0; i < r.n_results; i++)
            r.results[i] = (kafka_deletegroups_result){c->in.del.groups_names[i], err};
        kafka_deletegroups_resp_encode(w, v, &r);
        break;
    }
    case KAFKA_LIST_GROUPS: {
        kafka_listgroups_resp r = {.error_code = err};
        kafka_listgroups_resp_encode(w, v, &r);
        break;
    }
    default: break;
    }
}

/* ---- finishing ------------------------------------------------------------ */

static void frame_release(void *f) { rpc_frame_unref(f); }

/* Merge the per-group answers of a split request. Returns 0 or -errno. */
static int merge(gctx *c, kafka_writer *w) {
    arena *a = &c->req->arena;
    int16_t v = c->ver;
    switch (c->api) {
    case KAFKA_DESCRIBE_GROUPS: {
        kafka_describegroups_resp out = {.n_groups = c->n};
        out.groups = arena_calloc(a, (size_t)c->n, sizeof *out.groups);
        if (!out.groups)
            return -ENOMEM;
        for (int i = 0; i < c->n; i++) {
            gsub *s = &c->subs[i];
            kafka_describegroups_resp one;
            kafka_reader r;
            if (s->reply) {
                kr_init(&r, s->reply->tail, s->reply->tail_len);
                if (kafka_describegroups_resp_decode(&r, v, a, &one) == 0 && one.n_groups == 1) {
                    out.groups[i] = one.groups[0];
                    continue;
                }
                s->err = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
            }
            out.groups[i] = (kafka_describegroups_group){
                .error_code = s->err, .group_id = s->group, .group_state = cview("Dead"),
                .protocol_type = cview(""), .protocol_data = cview(""),
                .authorized_operations = INT32_MIN};
        }
        kafka_describegroups_resp_encode(w, v, &out);
        return 0;
    }
    case KAFKA_DELETE_GROUPS: {
        kafka_deletegroups_resp out = {.n_results = c->n};
        out.results = arena_calloc(a, (size_t)c->n, sizeof *out.results);
        if (!out.results)
            return -ENOMEM;
        for (int i = 0; i < c->n; i++) {
            gsub *s = &c->subs[i];
            kafka_deletegroups_resp one;
            kafka_reader r;
            out.results[i] = (kafka_deletegroups_result){s->group, s->err};
            if (s->reply) {
                kr_init(&r, s->reply->tail, s->reply->tail_len);
                if (kafka_deletegroups_resp_decode(&r, v, a, &one) == 0 && one.n_results == 1)
                    out.results[i].error_code = one.results[0].error_code;
                else
                    out.results[i].error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
            }
        }
        kafka_deletegroups_resp_encode(w, v, &out);
        return 0;
    }
    case KAFKA_OFFSET_FETCH: {
        kafka_offsetfetch_resp out = {.n_groups = c->n};
        out.groups = arena_calloc(a, (size_t)c->n, sizeof *out.groups);
        if (!out.groups)
            return -ENOMEM;
        for (int i = 0; i < c->n; i++) {
            gsub *s = &c->subs[i];
            kafka_offsetfetch_resp one;
            kafka_reader r;
            out.groups[i] = (kafka_offsetfetch_resp_group){.group_id = s->group, .error_code = s->err};
            if (s->reply) {
                kr_init(&r, s->reply->tail, s->reply->tail_len);
                if (kafka_offsetfetch_resp_decode(&r, v, a, &one) == 0 && one.n_groups == 1)
                    out.groups[i] = one.groups[0];
                else
                    out.groups[i].error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
            }
        }
        kafka_offsetfetch_resp_encode(w, v, &out);
        return 0;
    }
    case KAFKA_LIST_GROUPS: {
        kafka_listgroups_resp out = {0};
        int total = 0;
        kafka_listgroups_resp *each = arena_calloc(a, (size_t)(c->n ? c->n : 1), sizeof *each);
        if (!each)
            return -ENOMEM;
        for (int i = 0; i < c->n; i++) {
            kafka_reader r;
            if (!c->subs[i].reply)
                continue; /* an unreachable coordinator: its groups are missing */
            kr_init(&r, c->subs[i].reply->tail, c->subs[i].reply->tail_len);
            if (kafka_listgroups_resp_decode(&r, v, a, &each[i]) == 0 && each[i].error_code == 0)
                total += each[i].n_groups;
            else
                each[i].n_groups = 0;
        }
        out.groups = arena_calloc(a, (size_t)(total ? total : 1), sizeof *out.groups);
        if (!out.groups)
            return -ENOMEM;
        for (int i = 0; i < c->n; i++)
            for (int k = 0; k < each[i].n_groups; k++)
                out.groups[out.n_groups++] = each[i].groups[k];
        kafka_listgroups_resp_encode(w, v, &out);
        return 0;
    }
    default: return -EINVAL;
    }
}

static void finish(gctx *c) {
    fe_req *req = c->req;
    kafka_writer w;
    fe_resp_begin(req, &w);
    if (c->merge) {
        if (merge(c, &w) < 0) {
            kw_free(&w);
            for (int i = 0; i < c->n; i++)
                rpc_frame_unref(c->subs[i].reply);
            fe_req_fail(req, "out of memory");
            return;
        }
    } else if (c->subs[0].reply) {
        /* the broker's Kafka body goes out as it came, by reference */
        rpc_frame *f = c->subs[0].reply;
        rpc_frame_ref(f);
        kw_ref(&w, f->tail, f->tail_len, frame_release, f);
    } else {
        fe_stats_request_error(req->worker->stats, c->api);
        encode_error(c, &w, c->subs[0].err);
    }
    for (int i = 0; i < c->n; i++) {
        rpc_frame_unref(c->subs[i].reply);
        c->subs[i].reply = NULL;
    }
    for (int i = 0; i < c->n; i++)
        if (!c->subs[i].body_is_frame)
            free((void *)c->subs[i].body);
    fe_req_finish(req, &w);
}

/* ---- routing and sending ------------------------------------------------- */

static void send_round(gctx *c);

static void on_refreshed(int err, void *arg) {
    (void)err;
    send_round(arg);
}

static void round_done(gctx *c) {
    if (c->retry) {
        c->retry = false;
        fe_route_refresh(c->req->worker->route, on_refreshed, c);
        return;
    }
    finish(c);
}

static bool routing_status(Eddy__Status st) {
    return fe_status_wants_refresh(st) || st == EDDY__STATUS__UNAVAILABLE;
}

static void on_reply(int err, rpc_frame *reply, void *arg) {
    gsub *s = arg;
    gctx *c = s->c;
    if (!err && reply->hdr->status == EDDY__STATUS__OK) {
        rpc_frame_ref(reply);
        s->reply = reply;
        s->err = 0;
    } else if ((err == -ECONNREFUSED || (!err && routing_status(reply->hdr->status))) &&
               s->attempts < GROUP_ATTEMPTS) {
        /* not delivered, or delivered to a broker that is not the owner:
         * nothing happened, safe to send again after a refresh */
        s->pending = true;
        c->retry = true;
    } else if (!err && reply->hdr->status == EDDY__STATUS__INVALID_REQUEST) {
        s->err = KAFKA_ERR_INVALID_REQUEST;
    } else if (!err && reply->hdr->status == EDDY__STATUS__STORAGE_ERROR) {
        s->err = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
    } else {
        /* the client looks for the coordinator again and retries */
        s->err = KAFKA_ERR_NOT_COORDINATOR;
    }
    if (--c->outstanding == 0)
        round_done(c);
}

/* The client's host as Kafka shows it in DescribeGroups (Java's
 * InetAddress.toString() of an unresolved address): "/" + the host part of
 * the peer address "host:port" or "[v6]:port". "" when unknown. */
static char *peer_host(fe_req *req) {
    const char *p = req->conn->peer;
    const char *end = strrchr(p, ':');
    if (p[0] == '[') {
        p++;
        end = strchr(p, ']');
    }
    if (!end || end == p)
        return "";
    size_t n = (size_t)(end - p);
    char *out = arena_alloc(&req->arena, n + 2);
    if (!out)
        return "";
    out[0] = '/';
    memcpy(out + 1, p, n);
    out[n + 1] = 0;
    return out;
}

static void send_one(gctx *c, gsub *s) {
    fe_req *req = c->req;
    fe_route *route = req->worker->route;
    s->pending = false;
    s->attempts++;
    s->err = KAFKA_ERR_NOT_COORDINATOR;
    int32_t broker = s->broker;
    if (c->api != KAFKA_LIST_GROUPS) {
        const fe_route_topic *t = fe_route_topic_by_name(route, GROUP_OFFSETS_TOPIC,
                                                         strlen(GROUP_OFFSETS_TOPIC));
        int32_t part = group_place_partition(s->group.ptr, (size_t)s->group.len);
        const Eddy__PartitionPlacement *pl = t ? fe_route_partition(t, part) : NULL;
        if (!pl) {
            s->err = KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
            return;
        }
        broker = pl->broker_id;
    }
    rpc_client *bc = fe_route_broker(route, broker);
    struct evbuffer *tail = evbuffer_new();
    if (!bc || !tail) {
        if (tail)
            evbuffer_free(tail);
        return;
    }
    int r;
    if (s->body_is_frame) {
        fe_frame_ref(req->frame);
        r = evbuffer_add_reference(tail, s->body, s->len, fe_frame_evbuffer_cleanup, req->frame);
        if (r < 0)
            fe_frame_unref(req->frame);
    } else {
        r = evbuffer_add(tail, s->body, s->len);
    }
    Eddy__GroupRequest q = EDDY__GROUP_REQUEST__INIT;
    q.api_key = c->api;
    q.api_version = c->ver;
    char *gid = s->group.len >= 0 ? arena_strndup(&req->arena, s->group.ptr, (size_t)s->group.len) : NULL;
    q.group_id = gid ? gid : "";
    q.principal = req->conn->principal;
    if (c->api == KAFKA_JOIN_GROUP) {
        /* for DescribeGroups: the member's client id and host */
        const kafka_str cid = req->hdr.client_id;
        char *id = cid.len > 0 ? arena_strndup(&req->arena, cid.ptr, (size_t)cid.len) : NULL;
        q.client_id = id ? id : "";
        q.client_host = peer_host(req);
    }
    uint64_t id = 0;
    if (r == 0) {
        c->outstanding++;
        id = rpc_client_call(bc, EDDY__METHOD__GROUP, fe_route_version(route), &q.base, tail,
                             c->timeout_ms, on_reply, s);
        if (!id)
            c->outstanding--;
    }
    evbuffer_free(tail);
}

static void send_round(gctx *c) {
    c->outstanding = 1; /* guard: no completion before every call is sent */
    for (int i = 0; i < c->n; i++)
        if (c->subs[i].pending)
            send_one(c, &c->subs[i]);
    if (--c->outstanding == 0)
        round_done(c);
}

static void on_topic_created(int err, rpc_frame *reply, void *arg) {
    gctx *c = arg;
    /* created, already there (another frontend won the race) or failed: the
     * refreshed map tells which; routing reports what is still missing */
    if (!err && reply->hdr->status != EDDY__STATUS__OK &&
        reply->hdr->status != EDDY__STATUS__TOPIC_EXISTS)
        LOG_WARN("group", "creating %s: status %d", GROUP_OFFSETS_TOPIC, (int)reply->hdr->status);
    fe_route_refresh(c->req->worker->route, on_refreshed, c);
}

/* Create __consumer_offsets through the controller when the map lacks it. */
static void start(gctx *c) {
    fe_route *route = c->req->worker->route;
    if (c->api == KAFKA_LIST_GROUPS ||
        fe_route_topic_by_name(route, GROUP_OFFSETS_TOPIC, strlen(GROUP_OFFSETS_TOPIC))) {
        send_round(c);
        return;
    }
    Eddy__ConfigEntry ce = EDDY__CONFIG_ENTRY__INIT;
    ce.name = "cleanup.policy";
    ce.value = "compact";
    Eddy__ConfigEntry *cfg[1] = {&ce};
    Eddy__CreateTopicRequest q = EDDY__CREATE_TOPIC_REQUEST__INIT;
    q.name = GROUP_OFFSETS_TOPIC;
    q.num_partitions = GROUP_OFFSETS_PARTITIONS;
    q.n_configs = 1;
    q.configs = cfg;
    rpc_client *ctl = fe_route_controller(route);
    if (!ctl || !rpc_client_call(ctl, EDDY__METHOD__CREATE_TOPIC, fe_route_version(route), &q.base,
                                 NULL, c->req->worker->conf->request_timeout_ms, on_topic_created, c))
        fe_route_refresh(route, on_refreshed, c);
}

/* ---- request decoding ------------------------------------------------------ */

static int add_subs(gctx *c, int n) {
    c->subs = arena_calloc(&c->req->arena, (size_t)(n > 0 ? n : 1), sizeof *c->subs);
    if (!c->subs)
        return -ENOMEM;
    c->n = n;
    for (int i = 0; i < n; i++) {
        c->subs[i].c = c;
        c->subs[i].pending = true;
        c->subs[i].err = KAFKA_ERR_NOT_COORDINATOR;
    }
    return 0;
}

/* The whole body, for a single-group request. */
static int one_sub(gctx *c, kafka_str group, const uint8_t *start, const uint8_t *end) {
    if (add_subs(c, 1) < 0)
        return -ENOMEM;
    c->subs[0].group = group;
    c->subs[0].body = start;
    c->subs[0].len = (size_t)(end - start);
    c->subs[0].body_is_frame = true;
    return 0;
}

/* Re-encoded single-group bodies of a multi-group request. */
static int encoded_sub(gctx *c, int i, kafka_str group, kafka_writer *w) {
    uint8_t *buf;
    size_t len;
    int r = kw_error(w) ? kw_error(w) : kw_flatten(w, &buf, &len);
    kw_free(w);
    if (r < 0)
        return r;
    c->subs[i].group = group;
    c->subs[i].body = buf;
    c->subs[i].len = len;
    c->subs[i].body_is_frame = false;
    return 0;
}

/* Decode, fill c->in and the subs. 0, -EBADMSG or -ENOMEM. */
static int decode(gctx *c) {
    fe_req *req = c->req;
    kafka_reader *r = &req->body;
    const uint8_t *start = r->p, *end = r->end;
    arena *a = &req->arena;
    int16_t v = c->ver;
    switch (c->api) {
    case KAFKA_JOIN_GROUP: {
        if (kafka_joingroup_req_decode(r, v, a, &c->in.join) < 0)
            return -EBADMSG;
        int32_t rb = v >= 1 ? c->in.join.rebalance_timeout_ms : c->in.join.session_timeout_ms;
        if (rb < 0 || rb > 1800000)
            rb = 300000;
        c->timeout_ms = rb + HELD_EXTRA_MS;
        return one_sub(c, c->in.join.group_id, start, end);
    }
    case KAFKA_SYNC_GROUP:
        if (kafka_syncgroup_req_decode(r, v, a, &c->in.sync) < 0)
            return -EBADMSG;
        c->timeout_ms = SYNC_TIMEOUT_MS;
        return one_sub(c, c->in.sync.group_id, start, end);
    case KAFKA_HEARTBEAT:
        if (kafka_heartbeat_req_decode(r, v, a, &c->in.hb) < 0)
            return -EBADMSG;
        return one_sub(c, c->in.hb.group_id, start, end);
    case KAFKA_LEAVE_GROUP:
        if (kafka_leavegroup_req_decode(r, v, a, &c->in.leave) < 0)
            return -EBADMSG;
        return one_sub(c, c->in.leave.group_id, start, end);
    case KAFKA_OFFSET_COMMIT:
        if (kafka_offsetcommit_req_decode(r, v, a, &c->in.commit) < 0)
            return -EBADMSG;
        return one_sub(c, c->in.commit.group_id, start, end);
    case KAFKA_OFFSET_DELETE:
        if (kafka_offsetdelete_req_decode(r, v, a, &c->in.odel) < 0)
            return -EBADMSG;
        return one_sub(c, c->in.odel.group_id, start, end);
    case KAFKA_OFFSET_FETCH: {
        kafka_offsetfetch_req *in = &c->in.fetch;
        if (kafka_offsetfetch_req_decode(r, v, a, in) < 0)
            return -EBADMSG;
        if (v < 8)
            return one_sub(c, in->group_id, start, end);
        if (in->n_groups == 1)
            return one_sub(c, in->groups[0].group_id, start, end);
        c->merge = true;
        if (add_subs(c, in->n_groups) < 0)
            return -ENOMEM;
        for (int i = 0; i < in->n_groups; i++) {
            kafka_offsetfetch_req one = {.groups = &in->groups[i], .n_groups = 1,
                                         .require_stable = in->require_stable};
            kafka_writer w;
            kw_init(&w);
            kafka_offsetfetch_req_encode(&w, v, &one);
            if (encoded_sub(c, i, in->groups[i].group_id, &w) < 0)
                return -ENOMEM;
        }
        return 0;
    }
    case KAFKA_DESCRIBE_GROUPS: {
        kafka_describegroups_req *in = &c->in.desc;
        if (kafka_describegroups_req_decode(r, v, a, in) < 0)
            return -EBADMSG;
        if (in->n_groups == 1)
            return one_sub(c, in->groups[0], start, end);
        c->merge = true;
        if (add_subs(c, in->n_groups) < 0)
            return -ENOMEM;
        for (int i = 0; i < in->n_groups; i++) {
            kafka_describegroups_req one = {.groups = &in->groups[i], .n_groups = 1,
                                            .include_authorized_operations = in->include_authorized_operations};
            kafka_writer w;
            kw_init(&w);
            kafka_describegroups_req_encode(&w, v, &one);
            if (encoded_sub(c, i, in->groups[i], &w) < 0)
                return -ENOMEM;
        }
        return 0;
    }
    case KAFKA_DELETE_GROUPS: {
        kafka_deletegroups_req *in = &c->in.del;
        if (kafka_deletegroups_req_decode(r, v, a, in) < 0)
            return -EBADMSG;
        if (in->n_groups_names == 1)
            return one_sub(c, in->groups_names[0], start, end);
        c->merge = true;
        if (add_subs(c, in->n_groups_names) < 0)
            return -ENOMEM;
        for (int i = 0; i < in->n_groups_names; i++) {
            kafka_deletegroups_req one = {.groups_names = &in->groups_names[i], .n_groups_names = 1};
            kafka_writer w;
            kw_init(&w);
            kafka_deletegroups_req_encode(&w, v, &one);
            if (encoded_sub(c, i, in->groups_names[i], &w) < 0)
                return -ENOMEM;
        }
        return 0;
    }
    case KAFKA_LIST_GROUPS: {
        if (kafka_listgroups_req_decode(r, v, a, &c->in.list) < 0)
            return -EBADMSG;
        c->merge = true;
        /* every broker that coordinates some group */
        fe_route *route = req->worker->route;
        const fe_route_topic *t = fe_route_topic_by_name(route, GROUP_OFFSETS_TOPIC,
                                                         strlen(GROUP_OFFSETS_TOPIC));
        int32_t ids[GROUP_OFFSETS_PARTITIONS];
        int n = 0;
        for (size_t i = 0; t && i < t->info->n_partitions && n < GROUP_OFFSETS_PARTITIONS; i++) {
            int32_t b = t->info->partitions[i]->broker_id;
            bool seen = false;
            for (int k = 0; k < n; k++)
                seen |= ids[k] == b;
            if (!seen)
                ids[n++] = b;
        }
        if (add_subs(c, n) < 0)
            return -ENOMEM;
        for (int i = 0; i < n; i++) {
            c->subs[i].broker = ids[i];
            c->subs[i].group = (kafka_str){NULL, -1};
            c->subs[i].body = start;
            c->subs[i].len = (size_t)(end - start);
            c->subs[i].body_is_frame = true;
            c->subs[i].attempts = GROUP_ATTEMPTS - 1; /* no retry: the map said so */
        }
        return 0;
    }
    default: return -EBADMSG;
    }
}

void fe_api_group(fe_req *req) {
    if (req->hdr.api_key == KAFKA_FIND_COORDINATOR) {
        find_coordinator(req);
        return;
    }
    gctx *c = arena_alloc(&req->arena, sizeof *c);
    if (!c) {
        fe_req_fail(req, "out of memory");
        return;
    }
    c->req = req;
    c->api = req->hdr.api_key;
    c->ver = req->hdr.api_version;
    c->timeout_ms = req->worker->conf->request_timeout_ms;
    int r = decode(c);
    if (r < 0) {
        for (int i = 0; i < c->n; i++)
            if (!c->subs[i].body_is_frame)
                free((void *)c->subs[i].body);
        fe_req_fail(req, r == -ENOMEM ? "out of memory" : "malformed group request");
        return;
    }
    int16_t e = fe_auth_group(req->conn);
    if (e) {
        for (int i = 0; i < c->n; i++) {
            c->subs[i].pending = false;
            c->subs[i].err = e;
        }
        if (c->api == KAFKA_LIST_GROUPS || !c->merge) {
            /* one error answer (ListGroups may have no sub at all) */
            if (c->n == 0 && add_subs(c, 1) < 0) {
                fe_req_fail(req, "out of memory");
                return;
            }
            c->subs[0].pending = false;
            c->subs[0].err = e;
            c->merge = false;
        }
        finish(c);
        return;
    }
    start(c);
}
