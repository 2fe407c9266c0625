/* api_metadata.c — Metadata: the frontend is the cluster's only broker, leader
 * of every partition; topics come from the cluster map. */
#include <errno.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "kafka_metadata.h"
#include "route.h"
#include "topics.h"

typedef struct md_ctx {
    kafka_metadata_req in;
    fe_topic_want *want;    /* requested names (NULL for "all topics") */
    int n_want;
} md_ctx;

static bool broker_alive(const Eddy__ClusterMap *m, int32_t id) {
    for (size_t i = 0; i < m->n_brokers; i++)
        if (m->brokers[i]->id == id)
            return m->brokers[i]->alive;
    return false;
}

/* Fill one topic entry from the map. */
static int fill_topic(fe_req *req, const fe_route_topic *t, kafka_metadata_topic *out) {
    const fe_config *conf = req->worker->conf;
    const Eddy__ClusterMap *m = fe_route_map(req->worker->route);
    const Eddy__TopicInfo *ti = t->info;
    int32_t *node = arena_alloc(&req->arena, sizeof *node);
    if (!node)
        return -ENOMEM;
    *node = conf->node_id;
    out->error_code = KAFKA_ERR_NONE;
    out->name = (kafka_str){ti->name, (int32_t)strlen(ti->name)};
    out->topic_id = t->id;
    out->is_internal = ti->internal;
    out->topic_authorized_operations = INT32_MIN;
    out->n_partitions = (int32_t)ti->n_partitions;
    out->partitions = arena_calloc(&req->arena, ti->n_partitions ? ti->n_partitions : 1,
                                   sizeof *out->partitions);
    if (!out->partitions)
        return -ENOMEM;
    for (size_t i = 0; i < ti->n_partitions; i++) {
        const Eddy__PartitionPlacement *p = ti->partitions[i];
        kafka_metadata_partition *mp = &out->partitions[i];
        mp->partition_index = p->partition;
        mp->leader_epoch = (int32_t)p->epoch;
        if (broker_alive(m, p->broker_id)) {
            mp->error_code = KAFKA_ERR_NONE;
            mp->leader_id = conf->node_id;
            mp->replica_nodes = node;
            mp->n_replica_nodes = 1;
            mp->isr_nodes = node;
            mp->n_isr_nodes = 1;
        } else {
            /* the owner is down: clients hold this partition's messages and
             * retry instead of sending them to a broker that cannot store them */
            mp->error_code = KAFKA_ERR_LEADER_NOT_AVAILABLE;
            mp->leader_id = -1;
            mp->replica_nodes = node;
            mp->n_replica_nodes = 1;
            mp->isr_nodes = NULL;
            mp->n_isr_nodes = 0;
            mp->offline_replicas = node;
            mp->n_offline_replicas = 1;
        }
    }
    return 0;
}

static void answer(fe_req *req, md_ctx *c) {
    const fe_listener_conf *l = req->conn->listener;
    const fe_config *conf = req->worker->conf;
    fe_route *route = req->worker->route;
    const Eddy__ClusterMap *m = fe_route_map(route);
    kafka_metadata_broker self = {
        .node_id = conf->node_id,
        .host = {l->adv_host, (int32_t)strlen(l->adv_host)},
        .port = l->adv_port,
        .rack = {NULL, -1},
    };
    kafka_metadata_resp resp = {
        .throttle_time_ms = 0,
        .brokers = &self,
        .n_brokers = 1,
        .cluster_id = m ? (kafka_str){m->cluster_id, (int32_t)strlen(m->cluster_id)}
                        : (kafka_str){NULL, -1},
        .controller_id = conf->node_id,
        .cluster_authorized_operations = INT32_MIN,
    };
    int r = 0;
    if (!c->want) {
        size_t n = fe_route_n_topics(route);
        resp.topics = arena_calloc(&req->arena, n ? n : 1, sizeof *resp.topics);
        if (!resp.topics)
            r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < n; i++) {
            const fe_route_topic *t = fe_route_topic_at(route, i);
            if (!fe_auth_topic_visible(req->conn, t->info->name))
                continue;
            r = fill_topic(req, t, &resp.topics[resp.n_topics++]);
        }
    } else {
        resp.topics = arena_calloc(&req->arena, (size_t)c->n_want, sizeof *resp.topics);
        if (!resp.topics)
            r = -ENOMEM;
        for (int i = 0; r == 0 && i < c->n_want; i++) {
            fe_topic_want *w = &c->want[i];
            kafka_metadata_topic *mt = &resp.topics[resp.n_topics++];
            mt->name = w->name;
            mt->topic_authorized_operations = INT32_MIN;
            char name[256];
            if (w->name.len > 0 && w->name.len < (int32_t)sizeof name) {
                memcpy(name, w->name.ptr, (size_t)w->name.len);
                name[w->name.len] = '\0';
            } else {
                name[0] = '\0';
            }
            if (!fe_auth_topic_visible(req->conn, name)) {
                mt->error_code = KAFKA_ERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            const fe_route_topic *t =
                w->error ? NULL : fe_route_topic_by_name(route, w->name.ptr, (size_t)w->name.len);
            if (!t) {
                mt->error_code = w->error ? w->error : KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            r = fill_topic(req, t, mt);
        }
    }
    if (r < 0) {
        fe_req_fail(req, "out of memory building Metadata");
        return;
    }
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_metadata_resp_encode(&w, req->hdr.api_version, &resp);
    fe_req_finish(req, &w);
}

static void on_ensured(fe_req *req, void *arg) { answer(req, arg); }

void fe_api_metadata(fe_req *req) {
    md_ctx *c = arena_alloc(&req->arena, sizeof *c);
    if (!c) {
        fe_req_fail(req, "out of memory");
        return;
    }
    int16_t v = req->hdr.api_version;
    if (kafka_metadata_req_decode(&req->body, v, &req->arena, &c->in) < 0) {
        fe_req_fail(req, "malformed Metadata request");
        return;
    }
    /* v0: an empty list means all topics; v1+: null means all */
    bool all = c->in.n_topics < 0 || (v == 0 && c->in.n_topics == 0);
    if (!all) {
        c->n_want = c->in.n_topics;
        c->want = arena_calloc(&req->arena, (size_t)(c->n_want ? c->n_want : 1), sizeof *c->want);
        if (!c->want) {
            fe_req_fail(req, "out of memory");
            return;
        }
        for (int i = 0; i < c->n_want; i++) {
            kafka_metadata_req_topic *t = &c->in.topics[i];
            if (t->name.len < 0) {
                /* v10+ may name a topic by id only */
                const fe_route_topic *rt = fe_route_topic_by_id(req->worker->route, &t->topic_id);
                /* copied: map memory does not outlive the next refresh */
                const char *nm = rt ? rt->info->name : "";
                c->want[i].name.ptr = arena_strndup(&req->arena, nm, strlen(nm));
                c->want[i].name.len = (int32_t)strlen(nm);
                if (!c->want[i].name.ptr) {
                    fe_req_fail(req, "out of memory");
                    return;
                }
            } else {
                c->want[i].name = t->name;
            }
        }
    }
    bool create = fe_topics_may_autocreate(req) && (v < 4 || c->in.allow_auto_topic_creation);
    fe_topics_ensure(req, c->want, c->want ? c->n_want : 0, create, on_ensured, c);
}
