#include "topics.h"

#include <errno.h>
#include <string.h>

#include "fe_errors.h"
#include "log.h"
#include "route.h"

typedef struct ensure_ctx {
    fe_req *req;
    fe_topic_want *want;
    int n;
    bool create;
    int creating;          /* CREATE_TOPIC calls outstanding */
    int phase;             /* 0: first refresh, 1: after creates */
    void (*done)(fe_req *req, void *arg);
    void *arg;
} ensure_ctx;

bool fe_topic_name_valid(kafka_str name) {
    return name.len > 0 && kafka_topic_name_valid(name.ptr, (size_t)name.len);
}

bool fe_topics_may_autocreate(const fe_req *req) {
    return req->worker->conf->auto_create_topics &&
           (req->conn->rights & (FE_RIGHT_SEND | FE_RIGHT_MANAGE));
}

/* Mark what the map now has; returns how many are still unknown. */
static int resolve(ensure_ctx *e) {
    int missing = 0;
    for (int i = 0; i < e->n; i++) {
        fe_topic_want *w = &e->want[i];
        if (!fe_topic_name_valid(w->name)) {
            w->error = KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
            continue;
        }
        if (fe_route_topic_by_name(e->req->worker->route, w->name.ptr, (size_t)w->name.len)) {
            w->error = KAFKA_ERR_NONE;
        } else {
            if (w->error == KAFKA_ERR_NONE || w->error == KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION)
                w->error = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            if (w->error == KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION)
                missing++;
        }
    }
    return missing;
}

static void on_refreshed(int err, void *arg);

typedef struct create_call {
    ensure_ctx *e;
    int index;
} create_call;

static void on_create_reply(int err, rpc_frame *reply, void *arg) {
    create_call *cc = arg;
    ensure_ctx *e = cc->e;
    fe_topic_want *w = &e->want[cc->index];
    if (err) {
        w->error = fe_kafka_error_from_rpc_errno(err);
    } else {
        Eddy__TopicResult *res =
            (Eddy__TopicResult *)rpc_frame_unpack_body(reply, &eddy__topic_result__descriptor);
        if (!res) {
            w->error = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        } else {
            /* lost a race with another creator: fine, it exists */
            if (res->status == EDDY__STATUS__OK || res->status == EDDY__STATUS__TOPIC_EXISTS)
                w->error = KAFKA_ERR_NONE;
            else
                w->error = fe_kafka_error_from_status(res->status);
            protobuf_c_message_free_unpacked(&res->base, NULL);
        }
    }
    if (--e->creating == 0) {
        e->phase = 1;
        fe_route_refresh(e->req->worker->route, on_refreshed, e);
    }
}

static void finish(ensure_ctx *e) { e->done(e->req, e->arg); }

static void on_refreshed(int err, void *arg) {
    ensure_ctx *e = arg;
    (void)err; /* a failed refresh leaves topics unknown: reported per topic */
    int missing = resolve(e);
    if (!missing || !e->create || e->phase == 1) {
        finish(e);
        return;
    }
    rpc_client *ctl = fe_route_controller(e->req->worker->route);
    for (int i = 0; i < e->n; i++) {
        fe_topic_want *w = &e->want[i];
        if (w->error != KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION)
            continue;
        create_call *cc = arena_alloc(&e->req->arena, sizeof *cc);
        char *name = arena_strndup(&e->req->arena, w->name.ptr, (size_t)w->name.len);
        if (!cc || !name)
            continue;
        cc->e = e;
        cc->index = i;
        Eddy__CreateTopicRequest q = EDDY__CREATE_TOPIC_REQUEST__INIT;
        q.name = name;
        q.num_partitions = -1;
        e->creating++;
        if (!rpc_client_call(ctl, EDDY__METHOD__CREATE_TOPIC, fe_route_version(e->req->worker->route),
                             &q.base, NULL, e->req->worker->conf->request_timeout_ms,
                             on_create_reply, cc))
            e->creating--;
        else
            LOG_INFO("topics", "auto-creating topic %s for %s", name, e->req->conn->peer);
    }
    if (e->creating == 0)
        finish(e);
}

void fe_topics_ensure(fe_req *req, fe_topic_want *want, int n, bool create,
                      void (*done)(fe_req *req, void *arg), void *arg) {
    ensure_ctx *e = arena_alloc(&req->arena, sizeof *e);
    if (!e) {
        for (int i = 0; i < n; i++)
            want[i].error = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        done(req, arg);
        return;
    }
    e->req = req;
    e->arg = arg;
    e->want = want;
    e->n = n;
    e->create = create;
    e->done = done;
    for (int i = 0; i < n; i++)
        want[i].error = KAFKA_ERR_NONE;
    if (!resolve(e) && fe_route_ready(req->worker->route) && !fe_route_behind(req->worker->route)) {
        finish(e);
        return;
    }
    fe_route_refresh(req->worker->route, on_refreshed, e);
}
