/* server.c — start, run and stop one broker; registration with the
 * controller, the map pull, and reconciliation of local partitions with the
 * map. */
#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>

#include "controller.h"
#include "fetch_wait.h"
#include "group.h"
#include "log.h"
#include "mover.h"
#include "offsets.h"
#include "producer_state.h"
#include "retention.h"
#include "rpc_serve.h"
#include "rpc_tls.h"
#include "stats_http.h"

#define TICK_MS 1000
#define HEARTBEAT_MS 2000
#define REGISTER_BACKOFF_MAX_MS 4000
#define CONTROLLER_CALL_TIMEOUT_MS 5000
#define STOP_DRAIN_MS 10000

int64_t br_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t br_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST)
            return -errno;
        buf[i] = saved;
    }
    return 0;
}

static void set_ident(int32_t id) {
    char ident[32];
    snprintf(ident, sizeof ident, "broker-%d", id);
    eddy_log_set_ident(ident);
}

/* ---- broker id and cluster id in the data dir --------------------------------- */

static int load_id(br_server *s, int32_t *id) {
    void *val;
    size_t len;
    *id = -1;
    int r = br_store_meta_get(s->store, "broker_id", &val, &len);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    char txt[16] = "";
    if (len < sizeof txt)
        memcpy(txt, val, len);
    free(val);
    char *end;
    long v = strtol(txt, &end, 10);
    if (!len || len >= sizeof txt || *end || v < 0 || v > INT32_MAX)
        return -EBADMSG;
    *id = (int32_t)v;
    return 0;
}

static int store_id(br_server *s, int32_t id) {
    char txt[16];
    int n = snprintf(txt, sizeof txt, "%d", id);
    return br_store_meta_put(s->store, "broker_id", txt, (size_t)n);
}

/* ---- reconciliation --------------------------------------------------------------- */

typedef struct drop_item {
    uint8_t topic_id[16];
    int32_t partition;
} drop_item;

typedef struct drop_job {
    br_server *s;
    drop_item *items;
    size_t n, cap;
    int stage;
} drop_job;

static void collect_absent(const uint8_t topic_id[16], int32_t partition, void *arg) {
    drop_job *j = arg;
    if (br_map_topic_by_id(j->s->map, topic_id, 16))
        return;
    if (j->n == j->cap) {
        size_t nc = j->cap ? j->cap * 2 : 8;
        drop_item *ni = realloc(j->items, nc * sizeof *ni);
        if (!ni)
            return;  /* found again at the next map change */
        j->items = ni;
        j->cap = nc;
    }
    memcpy(j->items[j->n].topic_id, topic_id, 16);
    j->items[j->n++].partition = partition;
}

static int barrier_fn(MDB_txn *txn, void *arg) { return 0; }

static void barrier_done(int err, void *arg) {
    drop_job *j = arg;
    br_server *s = j->s;
    /* Two barriers: the first finishes after every append queued before the
     * map change; the second after their completions have run on the loop
     * (they read br_part fields). Only then may the parts be dropped. */
    if (j->stage++ == 0 && !s->stopping &&
        br_commit_submit_fn(s->committer, barrier_fn, barrier_done, j) == 0)
        return;
    if (!s->stopping && j->stage == 2) {
        for (size_t i = 0; i < j->n; i++) {
            drop_item *d = &j->items[i];
            /* topic ids are never reused: absent once means deleted */
            if (br_map_topic_by_id(s->map, d->topic_id, 16))
                continue;
            br_fetch_notify(s, d->topic_id, d->partition);
            int r = br_plog_drop(s->store, d->topic_id, d->partition);
            if (r < 0 && r != -ENOENT)
                eddy_log_err(r, "reconcile", "dropping partition %d of a deleted topic",
                             d->partition);
            else
                LOG_INFO("reconcile", "dropped partition %d of a deleted topic", d->partition);
        }
    }
    s->reconcile_barriers--;
    s->inflight--;
    free(j->items);
    free(j);
}

/* Drop local partitions of topics that the map no longer has (deleted).
 * Partitions that merely moved to another broker are kept. */
static void reconcile(br_server *s) {
    drop_job *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->s = s;
    int r = br_plog_list(s->store, collect_absent, j);
    if (r < 0)
        eddy_log_err(r, "reconcile", "listing local partitions");
    if (r < 0 || j->n == 0) {
        free(j->items);
        free(j);
        return;
    }
    r = br_commit_submit_fn(s->committer, barrier_fn, barrier_done, j);
    if (r < 0) {
        eddy_log_err(r, "reconcile", "queueing the drop of %zu partitions", j->n);
        free(j->items);
        free(j);
        return;
    }
    s->reconcile_barriers++;
    s->inflight++;
}

void br_server_map_updated(br_server *s, const uint8_t *packed, size_t len) {
    br_map *m = br_map_new();
    if (!m || br_map_set_packed(m, packed, len) < 0) {
        br_map_free(m);
        LOG_WARN("map", "could not decode a cluster map (%zu bytes)", len);
        return;
    }
    const Eddy__ClusterMap *cm = br_map_get(m);
    if (cm->version <= br_map_version(s->map)) {
        br_map_free(m);
        return;
    }
    if (s->cluster_id && strcmp(s->cluster_id, cm->cluster_id)) {
        /* our data belongs to another cluster (the controller's catalog was
         * lost or we point at the wrong one): do not take orders from it */
        LOG_ERROR("map", "controller is of cluster %s but this data dir belongs to %s: map "
                  "ignored", cm->cluster_id, s->cluster_id);
        br_map_free(m);
        return;
    }
    if (!s->cluster_id) {
        char *cid = strdup(cm->cluster_id);
        int r = cid ? br_store_meta_put(s->store, "cluster_id", cid, strlen(cid)) : -ENOMEM;
        if (r < 0) {
            free(cid);
            eddy_log_err(r, "map", "storing the cluster id");
            br_map_free(m);
            return;
        }
        s->cluster_id = cid;
    }
    br_map_free(s->map);
    s->map = m;
    LOG_DEBUG("map", "cluster map version %" PRIu64 ": %zu brokers, %zu topics", cm->version,
              cm->n_brokers, cm->n_topics);
    if (cm->version > s->reconciled_version) {
        s->reconciled_version = cm->version;
        reconcile(s);
        if (s->mover)
            br_mover_map_changed(s->mover);
    }
}

void br_server_map_refresh_done(br_server *s) { br_rpc_flush_pending(s); }

/* ---- controller link ------------------------------------------------------------- */

static void on_map(int err, rpc_frame *reply, void *arg) {
    br_server *s = arg;
    s->map_call = 0;
    if (err == -ECANCELED || s->stopping)
        return;
    if (err == 0 && reply->hdr->status == EDDY__STATUS__OK)
        br_server_map_updated(s, reply->body, reply->body_len);
    else
        LOG_DEBUG("map", "map pull failed: %s",
                  err ? strerror(-err) : "controller answered an error");
    br_server_map_refresh_done(s);
}

void br_server_refresh_map(br_server *s) {
    if (s->ctl || s->map_call || s->stopping || !s->ctl_client)
        return;
    Eddy__GetMapRequest req = EDDY__GET_MAP_REQUEST__INIT;
    req.known_version = br_map_version(s->map);
    s->map_call = rpc_client_call(s->ctl_client, EDDY__METHOD__GET_MAP, br_map_version(s->map),
                                  &req.base, NULL, CONTROLLER_CALL_TIMEOUT_MS, on_map, s);
    if (!s->map_call)
        br_server_map_refresh_done(s);
}

static void on_register(int err, rpc_frame *reply, void *arg) {
    br_server *s = arg;
    s->register_call = 0;
    if (err == -ECANCELED || s->stopping)
        return;
    Eddy__RegisterResult *res = NULL;
    if (err == 0 && reply->hdr->status == EDDY__STATUS__OK)
        res = (Eddy__RegisterResult *)rpc_frame_unpack_body(reply,
                                                             &eddy__register_result__descriptor);
    int64_t now = br_mono_ms();
    if (!res || res->status != EDDY__STATUS__OK || res->id < 0 ||
        (s->self_id >= 0 && res->id != s->self_id)) {
        if (s->registered || s->register_backoff_ms == 0)
            LOG_WARN("broker", "registration with the controller %s failed (%s); retrying",
                     s->cfg.controller, err ? strerror(-err) : "refused");
        s->registered = false;
        s->register_backoff_ms = s->register_backoff_ms ? s->register_backoff_ms * 2 : 250;
        if (s->register_backoff_ms > REGISTER_BACKOFF_MAX_MS)
            s->register_backoff_ms = REGISTER_BACKOFF_MAX_MS;
        s->next_register_ms = now + s->register_backoff_ms;
        if (res)
            eddy__register_result__free_unpacked(res, NULL);
        return;
    }
    if (s->self_id < 0) {
        int r = store_id(s, res->id);
        if (r < 0) {
            /* without the id on disk a restart would get a new one */
            eddy_log_err(r, "broker", "storing broker id %d", res->id);
            s->next_register_ms = now + REGISTER_BACKOFF_MAX_MS;
            eddy__register_result__free_unpacked(res, NULL);
            return;
        }
        s->self_id = res->id;
        set_ident(s->self_id);
    }
    if (!s->registered)
        LOG_INFO("broker", "registered with the controller as broker %d (%s)", s->self_id,
                 s->cfg.advertised);
    s->registered = true;
    s->register_backoff_ms = 0;
    s->next_register_ms = now + HEARTBEAT_MS;
    if (res->map_version > br_map_version(s->map))
        br_server_refresh_map(s);
    eddy__register_result__free_unpacked(res, NULL);
}

static void send_register(br_server *s) {
    Eddy__RegisterBroker req = EDDY__REGISTER_BROKER__INIT;
    req.id = s->self_id;
    req.address = s->cfg.advertised;
    req.stats_address = s->cfg.stats_listen ? s->cfg.stats_listen : "";
    req.local_address = s->local_name;
    s->register_call = rpc_client_call(s->ctl_client, EDDY__METHOD__REGISTER_BROKER,
                                       br_map_version(s->map), &req.base, NULL,
                                       CONTROLLER_CALL_TIMEOUT_MS, on_register, s);
    if (!s->register_call)
        s->next_register_ms = br_mono_ms() + REGISTER_BACKOFF_MAX_MS;
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
    br_server *s = arg;
    if (s->stopping)
        return;
    int64_t now = br_mono_ms();
    if (s->ctl) {
        br_controller_tick(s->ctl, now);
        return;
    }
    /* REGISTER_BROKER doubles as the heartbeat */
    if (!s->register_call && now >= s->next_register_ms)
        send_register(s);
    if (s->self_id >= 0)
        br_server_refresh_map(s);
}

static void on_ctl_changed(void *arg) {
    br_server *s = arg;
    const uint8_t *buf;
    size_t len;
    br_controller_packed(s->ctl, &buf, &len);
    br_server_map_updated(s, buf, len);
}

/* ---- start / stop ----------------------------------------------------------------- */

static int start_controller(br_server *s) {
    int r = br_controller_open(s->store, s->cfg.default_partitions, on_ctl_changed, s, &s->ctl);
    if (r < 0)
        return eddy_log_err(r, "broker", "loading the catalog");
    int32_t id;
    r = br_controller_register(s->ctl, s->self_id, s->cfg.advertised, s->cfg.stats_listen,
                               s->local_name, &id);
    if (r < 0)
        return eddy_log_err(r, "broker", "registering with the local catalog");
    if (s->self_id < 0 && (r = store_id(s, id)) < 0)
        return eddy_log_err(r, "broker", "storing broker id %d", id);
    s->self_id = id;
    s->registered = true;
    set_ident(id);
    br_controller_set_self(s->ctl, id);
    on_ctl_changed(s);
    LOG_INFO("broker", "controller and broker %d at %s", id, s->cfg.advertised);
    return 0;
}

static int start(br_server *s) {
    int r = make_dirs(s->cfg.data_dir);
    if (r < 0)
        return eddy_log_err(r, "broker", "creating data dir %s", s->cfg.data_dir);
    br_store_opts so = {
        .dir = s->cfg.data_dir, .map_size = (size_t)s->cfg.map_size_mb << 20, .sync = s->cfg.sync};
    if ((r = br_store_open(&so, &s->store)) < 0)
        return eddy_log_err(r, "broker", "opening the store in %s", s->cfg.data_dir);
    if ((r = br_offsets_open(s->store)) < 0)
        return eddy_log_err(r, "broker", "opening the offsets database");
    if ((r = br_producers_open(s->store)) < 0)
        return eddy_log_err(r, "broker", "opening the producers database");
    if ((r = br_committer_start(s->store, s->base, &s->committer)) < 0)
        return eddy_log_err(r, "broker", "starting the committer");
    br_groups_opts go = {.owns = br_groups_owns_server, .owns_arg = s};
    br_groups *groups;
    if ((r = br_groups_new(s->base, s->store, s->committer, &go, &groups)) < 0)
        return eddy_log_err(r, "broker", "starting the group coordinator");
    br_rpc_set_group_handler(s, br_groups_rpc_handle, groups);
    if (!(s->map = br_map_new()) || (r = br_fetch_init(s)) < 0 ||
        (r = br_mover_new(s, &s->mover)) < 0)
        return eddy_log_err(-ENOMEM, "broker", "allocating");

    int32_t stored;
    if ((r = load_id(s, &stored)) < 0)
        return eddy_log_err(r, "broker", "reading the broker id from %s", s->cfg.data_dir);
    if (s->cfg.id >= 0 && stored >= 0 && s->cfg.id != stored) {
        LOG_ERROR("broker", "config id %d but data dir %s belongs to broker %d", s->cfg.id,
                  s->cfg.data_dir, stored);
        return -EINVAL;
    }
    s->self_id = s->cfg.id >= 0 ? s->cfg.id : stored;
    if (s->cfg.id >= 0 && stored < 0 && (r = store_id(s, s->cfg.id)) < 0)
        return eddy_log_err(r, "broker", "storing broker id %d", s->cfg.id);
    if (s->self_id >= 0)
        set_ident(s->self_id);
    void *cid;
    size_t cidlen;
    r = br_store_meta_get(s->store, "cluster_id", &cid, &cidlen);
    if (r == 0) {
        s->cluster_id = strndup(cid, cidlen);
        free(cid);
        if (!s->cluster_id)
            return -ENOMEM;
    } else if (r != -ENOENT) {
        return eddy_log_err(r, "broker", "reading the cluster id");
    }

    if (s->cfg.rpc_tls_ca) {
        char why[512];
        if ((r = rpc_tls_new(s->cfg.rpc_tls_ca, s->cfg.rpc_tls_cert, s->cfg.rpc_tls_key,
                             &s->rpc_tls, why, sizeof why)) < 0) {
            LOG_ERROR("broker", "%s", why);
            return r;
        }
    }
    s->rpc = rpc_server_new_tls(s->base, s->cfg.listen, RPC_DEFAULT_MAX_FRAME, s->rpc_tls,
                                br_rpc_handle, s);
    if (!s->rpc)
        return eddy_log_err(errno ? -errno : -EADDRNOTAVAIL, "broker", "listening on %s",
                            s->cfg.listen);
    /* port 0 (tests): advertise the port actually bound */
    char host[256];
    int port;
    if (br_config_split_addr(s->cfg.advertised, host, sizeof host, &port) == 0 && port == 0) {
        char addr[300];
        snprintf(addr, sizeof addr, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
                 rpc_server_port(s->rpc));
        char *a = strdup(addr);
        if (!a)
            return -ENOMEM;
        free(s->cfg.advertised);
        s->cfg.advertised = a;
    }
    if (s->cfg.rpc_local) {
        /* an optimisation only: without it peers use TCP */
        if ((r = rpc_local_name_new(s->local_name, sizeof s->local_name)) < 0 ||
            (r = rpc_server_listen_local(s->rpc, s->local_name)) < 0) {
            eddy_log_err(r, "broker", "listening on a local socket (peers use TCP)");
            s->local_name[0] = '\0';
        }
    }

    if (s->cfg.controller_role) {
        if ((r = start_controller(s)) < 0)
            return r;
        br_controller_set_auto_rebalance(s->ctl, s->cfg.auto_rebalance);
    } else {
        rpc_client_opts co = {.tls = s->rpc_tls};
        s->ctl_client = rpc_client_new(s->base, s->cfg.controller, &co);
        if (!s->ctl_client)
            return eddy_log_err(-EINVAL, "broker", "controller address %s", s->cfg.controller);
        send_register(s);
    }
    s->tick = event_new(s->base, -1, EV_PERSIST, on_tick, s);
    struct timeval tv = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};
    if (!s->tick || event_add(s->tick, &tv) < 0)
        return eddy_log_err(-ENOMEM, "broker", "adding the tick timer");
    if ((r = br_retention_start(s, BR_RETENTION_INTERVAL_MS)) < 0)
        return eddy_log_err(r, "broker", "starting retention");
    if (s->cfg.stats_listen && (r = br_stats_http_start(s, &s->stats_http)) < 0)
        return r; /* logged there */
    LOG_INFO("broker", "listening on %s (advertised %s%s), data in %s, durability %s",
             s->cfg.listen, s->cfg.advertised, s->rpc_tls ? ", RPC over mutual TLS" : "",
             s->cfg.data_dir, s->cfg.sync ? "sync" : "nosync");
    return 0;
}

int br_server_start(const br_config *cfg, struct event_base *base, br_server **out) {
    br_server *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->base = base;
    s->self_id = -1;
    int r = br_config_copy(&s->cfg, cfg);
    if (r == 0)
        r = start(s);
    if (r < 0) {
        br_server_stop(s);
        return r;
    }
    *out = s;
    return 0;
}

int br_server_port(const br_server *s) { return rpc_server_port(s->rpc); }

static void on_drain_tick(evutil_socket_t fd, short what, void *arg) {}

void br_server_stop(br_server *s) {
    if (!s)
        return;
    s->stopping = true;
    br_stats_http_stop(s->stats_http);
    s->stats_http = NULL;
    rpc_server_free(s->rpc);
    s->rpc = NULL;
    br_rpc_fail_pending(s, EDDY__STATUS__UNAVAILABLE);
    br_fetch_free(s);
    if (s->tick)
        event_free(s->tick);
    s->tick = NULL;
    br_retention_stop(s);
    rpc_client_free(s->ctl_client);
    s->ctl_client = NULL;
    /* let queued commits complete on the loop before the committer goes:
     * their callbacks answer (or drop) calls and free request state */
    if (s->inflight > 0 && s->base) {
        struct event *t = event_new(s->base, -1, EV_PERSIST, on_drain_tick, NULL);
        struct timeval tv = {0, 50000};
        if (t && event_add(t, &tv) == 0) {
            int64_t deadline = br_mono_ms() + STOP_DRAIN_MS;
            while (s->inflight > 0 && br_mono_ms() < deadline)
                event_base_loop(s->base, EVLOOP_ONCE);
        }
        if (t)
            event_free(t);
        if (s->inflight > 0)
            LOG_WARN("broker", "stopping with %d commits still in flight", s->inflight);
    }
    br_committer_stop(s->committer);
    /* after the committer: its last completions still use the mover */
    br_mover_free(s->mover);
    s->mover = NULL;
    /* after the committer: its last completions answer offset commits */
    if (s->group_handler == br_groups_rpc_handle)
        br_groups_free(s->group_arg);
    s->group_handler = NULL;
    br_controller_free(s->ctl);
    br_map_free(s->map);
    br_store_close(s->store);
    free(s->cluster_id);
    rpc_tls_unref(s->rpc_tls);
    br_config_free(&s->cfg);
    free(s);
}
