/* api_admin.c — topic administration (CreateTopics, DeleteTopics,
 * CreatePartitions) through the controller, and the views that need no
 * broker (DescribeConfigs, DescribeCluster).
 *
 * Replication: every partition has one copy. A requested replication factor
 * is accepted (tools and Connect ask for 3 by default) and reported as 1, as
 * Event Hubs does; docs/design.md says so. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "fe_errors.h"
#include "kafka_createpartitions.h"
#include "kafka_createtopics.h"
#include "kafka_deletetopics.h"
#include "kafka_describecluster.h"
#include "kafka_describeconfigs.h"
#include "log.h"
#include "route.h"
#include "stats.h"
#include "topics.h"

/* ---- shared: one controller call per item, then a map refresh ------------- */

typedef struct admin_item {
    int16_t error;
    char *message;              /* arena, or NULL */
    Eddy__TopicInfo *created;   /* unpacked result of CREATE_TOPIC, or NULL */
} admin_item;

typedef struct admin_ctx {
    fe_req *req;
    admin_item *items;
    int n;
    int outstanding;
    void (*done)(struct admin_ctx *c);
    void *user;
    Eddy__TopicResult **results; /* kept to free after answering */
} admin_ctx;

typedef struct admin_call {
    admin_ctx *c;
    int i;
} admin_call;

static void admin_on_refreshed(int err, void *arg) {
    (void)err;
    admin_ctx *c = arg;
    /* done() ends the request and frees its arena, c included: take the
     * unpacked results (which done() still reads) out first */
    int n = c->n;
    Eddy__TopicResult **results = malloc((size_t)(n ? n : 1) * sizeof *results);
    if (results)
        memcpy(results, c->results, (size_t)n * sizeof *results);
    c->done(c);
    for (int i = 0; results && i < n; i++)
        if (results[i])
            protobuf_c_message_free_unpacked(&results[i]->base, NULL);
    free(results);
}

static void admin_on_reply(int err, rpc_frame *reply, void *arg) {
    admin_call *ac = arg;
    admin_ctx *c = ac->c;
    admin_item *it = &c->items[ac->i];
    if (err) {
        it->error = fe_kafka_error_from_rpc_errno(err);
    } else {
        Eddy__TopicResult *res =
            (Eddy__TopicResult *)rpc_frame_unpack_body(reply, &eddy__topic_result__descriptor);
        if (!res) {
            it->error = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        } else {
            c->results[ac->i] = res;
            it->error = fe_kafka_error_from_status(res->status);
            if (res->error_message && res->error_message[0])
                it->message = arena_strndup(&c->req->arena, res->error_message,
                                            strlen(res->error_message));
            it->created = res->topic;
        }
    }
    if (--c->outstanding == 0)
        /* answer only once this frontend's map shows the change */
        fe_route_refresh(c->req->worker->route, admin_on_refreshed, c);
}

static admin_ctx *admin_new(fe_req *req, int n) {
    admin_ctx *c = arena_alloc(&req->arena, sizeof *c);
    if (!c)
        return NULL;
    c->req = req;
    c->n = n;
    c->items = arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof *c->items);
    c->results = arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof *c->results);
    return c->items && c->results ? c : NULL;
}

/* Send item i's call (the item keeps its error if it was refused before). */
static void admin_call_controller(admin_ctx *c, int i, Eddy__Method m, const ProtobufCMessage *body) {
    admin_call *ac = arena_alloc(&c->req->arena, sizeof *ac);
    if (!ac) {
        c->items[i].error = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    ac->c = c;
    ac->i = i;
    c->outstanding++;
    if (!rpc_client_call(fe_route_controller(c->req->worker->route), m,
                         fe_route_version(c->req->worker->route), body, NULL,
                         c->req->worker->conf->request_timeout_ms, admin_on_reply, ac)) {
        c->outstanding--;
        c->items[i].error = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
    }
}

/* Callers set outstanding = 1 before sending, so that no reply can finish
 * the request while calls are still being made; this drops that guard. */
static void admin_start(admin_ctx *c) {
    if (--c->outstanding == 0)
        fe_route_refresh(c->req->worker->route, admin_on_refreshed, c);
}

static kafka_str msg_str(const char *m) {
    return m ? (kafka_str){m, (int32_t)strlen(m)} : (kafka_str){NULL, -1};
}

/* ---- CreateTopics ----------------------------------------------------------- */

typedef struct ct_ctx {
    kafka_createtopics_req in;
    kafka_createtopics_resp resp;
} ct_ctx;

static void create_topics_done(admin_ctx *c) {
    ct_ctx *ct = c->user;
    fe_req *req = c->req;
    for (int i = 0; i < c->n; i++) {
        kafka_createtopics_result *r = &ct->resp.topics[i];
        admin_item *it = &c->items[i];
        r->error_code = it->error;
        r->error_message = msg_str(it->message);
        if (!it->error && it->created) {
            if (it->created->topic_id.len == 16)
                memcpy(r->topic_id.b, it->created->topic_id.data, 16);
            r->num_partitions = (int32_t)it->created->n_partitions;
            r->replication_factor = 1;
            /* an empty list, not null: kafka-clients 4.0's Admin.createTopics
             * dereferences it on success */
            r->n_configs = 0;
        }
        if (it->error)
            fe_stats_request_error(req->worker->stats, KAFKA_CREATE_TOPICS);
    }
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_createtopics_resp_encode(&w, req->hdr.api_version, &ct->resp);
    fe_req_finish(req, &w);
}

void fe_api_create_topics(fe_req *req) {
    ct_ctx *ct = arena_alloc(&req->arena, sizeof *ct);
    if (!ct || kafka_createtopics_req_decode(&req->body, req->hdr.api_version, &req->arena,
                                             &ct->in) < 0) {
        fe_req_fail(req, ct ? "malformed CreateTopics request" : "out of memory");
        return;
    }
    admin_ctx *c = admin_new(req, ct->in.n_topics);
    ct->resp.n_topics = ct->in.n_topics;
    ct->resp.topics = arena_calloc(&req->arena, (size_t)(ct->in.n_topics ? ct->in.n_topics : 1),
                                   sizeof *ct->resp.topics);
    if (!c || !ct->resp.topics) {
        fe_req_fail(req, "out of memory");
        return;
    }
    c->done = create_topics_done;
    c->user = ct;
    c->outstanding = 1;
    for (int i = 0; i < ct->in.n_topics; i++) {
        kafka_createtopics_topic *t = &ct->in.topics[i];
        kafka_createtopics_result *r = &ct->resp.topics[i];
        r->name = t->name;
        r->num_partitions = -1;
        r->replication_factor = -1;
        r->n_configs = -1;
        int16_t e = fe_auth_cluster(req->conn, FE_RIGHT_MANAGE);
        int32_t count = t->num_partitions;
        if (!e && t->n_assignments > 0) {
            if (count != -1)
                e = KAFKA_ERR_INVALID_REQUEST;
            count = t->n_assignments;
        }
        if (!e && !fe_topic_name_valid(t->name))
            e = KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
        if (!e && (t->replication_factor == 0 || t->replication_factor < -1))
            e = KAFKA_ERR_INVALID_REPLICATION_FACTOR;
        for (int j = 0; !e && j < i; j++)
            if (ct->in.topics[j].name.len == t->name.len &&
                !memcmp(ct->in.topics[j].name.ptr, t->name.ptr, (size_t)t->name.len))
                e = KAFKA_ERR_INVALID_REQUEST; /* the same topic twice */
        Eddy__CreateTopicRequest q = EDDY__CREATE_TOPIC_REQUEST__INIT;
        Eddy__ConfigEntry *ce = arena_calloc(&req->arena, (size_t)(t->n_configs ? t->n_configs : 1), sizeof *ce);
        Eddy__ConfigEntry **cep = arena_calloc(&req->arena, (size_t)(t->n_configs ? t->n_configs : 1), sizeof *cep);
        q.name = arena_strndup(&req->arena, t->name.ptr, t->name.len > 0 ? (size_t)t->name.len : 0);
        if (!e && (!ce || !cep || !q.name))
            e = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        for (int j = 0; !e && j < t->n_configs; j++) {
            kafka_createtopics_config *cfg = &t->configs[j];
            if (cfg->value.len < 0)
                continue; /* null value: keep the default */
            eddy__config_entry__init(&ce[q.n_configs]);
            ce[q.n_configs].name = arena_strndup(&req->arena, cfg->name.ptr,
                                                 cfg->name.len > 0 ? (size_t)cfg->name.len : 0);
            ce[q.n_configs].value = arena_strndup(&req->arena, cfg->value.ptr, (size_t)cfg->value.len);
            if (!ce[q.n_configs].name || !ce[q.n_configs].value) {
                e = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
                break;
            }
            cep[q.n_configs] = &ce[q.n_configs];
            q.n_configs++;
        }
        if (e) {
            c->items[i].error = e;
            continue;
        }
        q.configs = cep;
        q.num_partitions = count;
        q.validate_only = ct->in.validate_only;
        admin_call_controller(c, i, EDDY__METHOD__CREATE_TOPIC, &q.base);
    }
    admin_start(c);
}

/* ---- DeleteTopics ----------------------------------------------------------- */

typedef struct dt_ctx {
    kafka_deletetopics_req in;
    kafka_deletetopics_resp resp;
} dt_ctx;

static void delete_topics_done(admin_ctx *c) {
    dt_ctx *dt = c->user;
    fe_req *req = c->req;
    for (int i = 0; i < c->n; i++) {
        dt->resp.responses[i].error_code = c->items[i].error;
        dt->resp.responses[i].error_message = msg_str(c->items[i].message);
    }
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_deletetopics_resp_encode(&w, req->hdr.api_version, &dt->resp);
    fe_req_finish(req, &w);
}

void fe_api_delete_topics(fe_req *req) {
    dt_ctx *dt = arena_alloc(&req->arena, sizeof *dt);
    if (!dt || kafka_deletetopics_req_decode(&req->body, req->hdr.api_version, &req->arena,
                                             &dt->in) < 0) {
        fe_req_fail(req, dt ? "malformed DeleteTopics request" : "out of memory");
        return;
    }
    bool v6 = req->hdr.api_version >= 6;
    int n = v6 ? dt->in.n_topics : dt->in.n_topic_names;
    admin_ctx *c = admin_new(req, n);
    dt->resp.n_responses = n;
    dt->resp.responses = arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof *dt->resp.responses);
    if (!c || !dt->resp.responses) {
        fe_req_fail(req, "out of memory");
        return;
    }
    c->done = delete_topics_done;
    c->user = dt;
    c->outstanding = 1;
    fe_route *route = req->worker->route;
    for (int i = 0; i < n; i++) {
        kafka_deletetopics_result *r = &dt->resp.responses[i];
        kafka_str name = v6 ? dt->in.topics[i].name : dt->in.topic_names[i];
        r->name = name;
        if (v6)
            r->topic_id = dt->in.topics[i].topic_id;
        Eddy__DeleteTopicRequest q = EDDY__DELETE_TOPIC_REQUEST__INIT;
        if (name.len >= 0) {
            q.name = arena_strndup(&req->arena, name.ptr, (size_t)name.len);
        } else {
            const fe_route_topic *t = fe_route_topic_by_id(route, &dt->in.topics[i].topic_id);
            if (t) {
                q.name = arena_strndup(&req->arena, t->info->name, strlen(t->info->name));
                r->name = (kafka_str){q.name, q.name ? (int32_t)strlen(q.name) : -1};
            }
        }
        int16_t e = fe_auth_cluster(req->conn, FE_RIGHT_MANAGE);
        if (!e && !q.name)
            e = name.len >= 0 ? KAFKA_ERR_UNKNOWN_SERVER_ERROR : KAFKA_ERR_UNKNOWN_TOPIC_ID;
        if (e) {
            c->items[i].error = e;
            continue;
        }
        admin_call_controller(c, i, EDDY__METHOD__DELETE_TOPIC, &q.base);
    }
    admin_start(c);
}

/* ---- CreatePartitions ------------------------------------------------------- */

typedef struct cp_ctx {
    kafka_createpartitions_req in;
    kafka_createpartitions_resp resp;
} cp_ctx;

static void create_partitions_done(admin_ctx *c) {
    cp_ctx *cp = c->user;
    fe_req *req = c->req;
    for (int i = 0; i < c->n; i++) {
        cp->resp.results[i].error_code = c->items[i].error;
        cp->resp.results[i].error_message = msg_str(c->items[i].message);
    }
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_createpartitions_resp_encode(&w, req->hdr.api_version, &cp->resp);
    fe_req_finish(req, &w);
}

void fe_api_create_partitions(fe_req *req) {
    cp_ctx *cp = arena_alloc(&req->arena, sizeof *cp);
    if (!cp || kafka_createpartitions_req_decode(&req->body, req->hdr.api_version, &req->arena,
                                                 &cp->in) < 0) {
        fe_req_fail(req, cp ? "malformed CreatePartitions request" : "out of memory");
        return;
    }
    int n = cp->in.n_topics;
    admin_ctx *c = admin_new(req, n);
    cp->resp.n_results = n;
    cp->resp.results = arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof *cp->resp.results);
    if (!c || !cp->resp.results) {
        fe_req_fail(req, "out of memory");
        return;
    }
    c->done = create_partitions_done;
    c->user = cp;
    c->outstanding = 1;
    for (int i = 0; i < n; i++) {
        kafka_createpartitions_topic *t = &cp->in.topics[i];
        cp->resp.results[i].name = t->name;
        int16_t e = fe_auth_cluster(req->conn, FE_RIGHT_MANAGE);
        Eddy__CreatePartitionsRequest q = EDDY__CREATE_PARTITIONS_REQUEST__INIT;
        q.name = arena_strndup(&req->arena, t->name.ptr, t->name.len > 0 ? (size_t)t->name.len : 0);
        q.count = t->count;
        q.validate_only = cp->in.validate_only;
        if (!e && !q.name)
            e = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        if (e) {
            c->items[i].error = e;
            continue;
        }
        admin_call_controller(c, i, EDDY__METHOD__CREATE_PARTITIONS, &q.base);
    }
    admin_start(c);
}

/* ---- DescribeConfigs -------------------------------------------------------- */

/* Topic configs we implement, with their defaults (docs/user-guide.md). */
static const struct {
    const char *name, *def;
    int8_t type; /* ConfigType: 1 boolean, 2 string, 3 int, 5 long, 7 list */
} topic_defaults[] = {
    {"cleanup.policy", "delete", 7},
    {"compression.type", "producer", 2},
    {"max.message.bytes", "1048588", 3},
    {"message.timestamp.type", "CreateTime", 2},
    {"message.timestamp.difference.max.ms", "9223372036854775807", 5},
    {"min.insync.replicas", "1", 3},
    {"retention.bytes", "-1", 5},
    {"retention.ms", "604800000", 5},
    {"segment.bytes", "1073741824", 3},
    {"segment.ms", "604800000", 5},
};

#define N_TOPIC_DEFAULTS (sizeof topic_defaults / sizeof topic_defaults[0])

static bool key_wanted(const kafka_describeconfigs_resource *res, const char *name) {
    if (res->n_configuration_keys < 0)
        return true;
    for (int i = 0; i < res->n_configuration_keys; i++)
        if (kafka_str_eq(res->configuration_keys[i], name))
            return true;
    return false;
}

static int describe_topic(fe_req *req, const kafka_describeconfigs_resource *res,
                          kafka_describeconfigs_result *out) {
    int16_t v = req->hdr.api_version;
    const fe_route_topic *t = fe_route_topic_by_name(
        req->worker->route, res->resource_name.ptr,
        res->resource_name.len > 0 ? (size_t)res->resource_name.len : 0);
    if (!t) {
        out->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return 0;
    }
    out->error_code = fe_auth_topic(req->conn, FE_RIGHT_LISTEN | FE_RIGHT_MANAGE, t->info->name,
                                    strlen(t->info->name));
    if (out->error_code)
        return 0;
    out->configs = arena_calloc(&req->arena, N_TOPIC_DEFAULTS, sizeof *out->configs);
    if (!out->configs)
        return -ENOMEM;
    for (size_t i = 0; i < N_TOPIC_DEFAULTS; i++) {
        if (!key_wanted(res, topic_defaults[i].name))
            continue;
        const char *set = fe_route_topic_config(t, topic_defaults[i].name);
        const char *val = set ? set : topic_defaults[i].def;
        char *copy = arena_strndup(&req->arena, val, strlen(val));
        if (!copy)
            return -ENOMEM;
        kafka_describeconfigs_config *cfg = &out->configs[out->n_configs++];
        cfg->name = (kafka_str){topic_defaults[i].name, (int32_t)strlen(topic_defaults[i].name)};
        cfg->value = (kafka_str){copy, (int32_t)strlen(copy)};
        cfg->read_only = false;
        cfg->is_default = !set;
        /* ConfigSource: 1 DYNAMIC_TOPIC_CONFIG, 5 DEFAULT_CONFIG */
        cfg->config_source = set ? 1 : 5;
        cfg->is_sensitive = false;
        cfg->config_type = v >= 3 ? topic_defaults[i].type : 0;
        cfg->documentation = (kafka_str){NULL, -1};
    }
    return 0;
}

static int describe_broker(fe_req *req, const kafka_describeconfigs_resource *res,
                           kafka_describeconfigs_result *out) {
    static const struct {
        const char *name;
        int8_t type;
    } keys[] = {{"auto.create.topics.enable", 1}, {"message.max.bytes", 3},
                {"num.partitions", 3}, {"default.replication.factor", 3}};
    const fe_config *conf = req->worker->conf;
    out->error_code = fe_auth_cluster(req->conn, FE_RIGHT_MANAGE);
    if (out->error_code)
        return 0;
    out->configs = arena_calloc(&req->arena, 4, sizeof *out->configs);
    if (!out->configs)
        return -ENOMEM;
    for (size_t i = 0; i < 4; i++) {
        if (!key_wanted(res, keys[i].name))
            continue;
        char buf[32];
        switch (i) {
        case 0: snprintf(buf, sizeof buf, "%s", conf->auto_create_topics ? "true" : "false"); break;
        case 1: snprintf(buf, sizeof buf, "%zu", conf->max_request_bytes); break;
        case 2: snprintf(buf, sizeof buf, "1"); break;
        default: snprintf(buf, sizeof buf, "1"); break;
        }
        char *copy = arena_strndup(&req->arena, buf, strlen(buf));
        if (!copy)
            return -ENOMEM;
        kafka_describeconfigs_config *cfg = &out->configs[out->n_configs++];
        cfg->name = (kafka_str){keys[i].name, (int32_t)strlen(keys[i].name)};
        cfg->value = (kafka_str){copy, (int32_t)strlen(copy)};
        cfg->read_only = true;
        cfg->config_source = 4; /* STATIC_BROKER_CONFIG */
        cfg->config_type = req->hdr.api_version >= 3 ? keys[i].type : 0;
        cfg->documentation = (kafka_str){NULL, -1};
    }
    return 0;
}

static void describe_configs_answer(fe_req *req, void *arg) {
    kafka_describeconfigs_req *in = arg;
    kafka_describeconfigs_resp resp = {0};
    resp.n_results = in->n_resources;
    resp.results = arena_calloc(&req->arena, (size_t)(in->n_resources ? in->n_resources : 1),
                                sizeof *resp.results);
    if (!resp.results) {
        fe_req_fail(req, "out of memory");
        return;
    }
    for (int i = 0; i < in->n_resources; i++) {
        kafka_describeconfigs_resource *res = &in->resources[i];
        kafka_describeconfigs_result *out = &resp.results[i];
        out->resource_type = res->resource_type;
        out->resource_name = res->resource_name;
        out->error_message = (kafka_str){NULL, -1};
        int r = 0;
        if (res->resource_type == 2)
            r = describe_topic(req, res, out);
        else if (res->resource_type == 4)
            r = describe_broker(req, res, out);
        else
            out->error_code = KAFKA_ERR_INVALID_REQUEST;
        if (r < 0) {
            fe_req_fail(req, "out of memory");
            return;
        }
    }
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_describeconfigs_resp_encode(&w, req->hdr.api_version, &resp);
    fe_req_finish(req, &w);
}

typedef struct dc_ctx {
    fe_req *req;
    kafka_describeconfigs_req in;
} dc_ctx;

static void describe_configs_refreshed(int err, void *arg) {
    (void)err;
    dc_ctx *c = arg;
    describe_configs_answer(c->req, &c->in);
}

void fe_api_describe_configs(fe_req *req) {
    dc_ctx *c = arena_alloc(&req->arena, sizeof *c);
    if (!c) {
        fe_req_fail(req, "out of memory");
        return;
    }
    c->req = req;
    if (kafka_describeconfigs_req_decode(&req->body, req->hdr.api_version, &req->arena, &c->in) < 0) {
        fe_req_fail(req, "malformed DescribeConfigs request");
        return;
    }
    if (!fe_route_ready(req->worker->route)) {
        fe_route_refresh(req->worker->route, describe_configs_refreshed, c);
        return;
    }
    describe_configs_answer(req, &c->in);
}

/* ---- DescribeCluster -------------------------------------------------------- */

void fe_api_describe_cluster(fe_req *req) {
    kafka_describecluster_req in;
    if (kafka_describecluster_req_decode(&req->body, req->hdr.api_version, &req->arena, &in) < 0) {
        fe_req_fail(req, "malformed DescribeCluster request");
        return;
    }
    const fe_listener_conf *l = req->conn->listener;
    const fe_config *conf = req->worker->conf;
    const Eddy__ClusterMap *m = fe_route_map(req->worker->route);
    kafka_describecluster_broker self = {
        .broker_id = conf->node_id,
        .host = {l->adv_host, (int32_t)strlen(l->adv_host)},
        .port = l->adv_port,
        .rack = {NULL, -1},
    };
    kafka_describecluster_resp resp = {
        .error_code = KAFKA_ERR_NONE,
        .error_message = {NULL, -1},
        .endpoint_type = 1,
        .cluster_id = m ? (kafka_str){m->cluster_id, (int32_t)strlen(m->cluster_id)}
                        : (kafka_str){"", 0},
        .controller_id = conf->node_id,
        .brokers = &self,
        .n_brokers = 1,
        .cluster_authorized_operations = INT32_MIN,
    };
    if (in.endpoint_type != 1) {
        /* we have no separate controller endpoints to show (KIP-919) */
        resp.error_code = KAFKA_ERR_UNSUPPORTED_VERSION;
        resp.n_brokers = 0;
    }
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_describecluster_resp_encode(&w, req->hdr.api_version, &resp);
    fe_req_finish(req, &w);
}
