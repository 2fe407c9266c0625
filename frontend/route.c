#include "route.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "rpc_local.h"
#include "rpc_tls.h"

#define REFRESH_INTERVAL_MS 1000

typedef struct refresh_waiter {
    void (*cb)(int err, void *arg);
    void *arg;
    struct refresh_waiter *next;
} refresh_waiter;

typedef struct broker_client {
    int32_t id;
    char *address;
    char *local; /* the broker's local socket name; "" for none */
    rpc_client *client;
} broker_client;

struct fe_route {
    fe_worker *worker;
    rpc_tls *tls;                 /* conf rpc_tls: every RPC client uses it; NULL: plaintext */
    rpc_client *controller;
    Eddy__ClusterMap *map;
    fe_route_topic *topics;       /* one per map topic */
    size_t n_topics;
    size_t *by_name;              /* open addressing: index+1, 0 empty */
    size_t by_name_cap;
    broker_client *brokers;
    size_t n_brokers;
    bool refreshing;
    refresh_waiter *waiters;
    struct event *timer;
    bool logged_unreachable;
};

static uint64_t hash_name(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int rebuild_index(fe_route *r) {
    Eddy__ClusterMap *m = r->map;
    size_t n = m->n_topics;
    fe_route_topic *topics = calloc(n ? n : 1, sizeof *topics);
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    size_t *idx = calloc(cap, sizeof *idx);
    if (!topics || !idx) {
        free(topics);
        free(idx);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        Eddy__TopicInfo *t = m->topics[i];
        topics[i].info = t;
        if (t->topic_id.len == 16)
            memcpy(topics[i].id.b, t->topic_id.data, 16);
        size_t slot = hash_name(t->name, strlen(t->name)) & (cap - 1);
        while (idx[slot])
            slot = (slot + 1) & (cap - 1);
        idx[slot] = i + 1;
    }
    free(r->topics);
    free(r->by_name);
    r->topics = topics;
    r->n_topics = n;
    r->by_name = idx;
    r->by_name_cap = cap;
    return 0;
}

/* Keep one RPC client per broker id; replace it when an address changed (a
 * restarted broker announces a new local socket name). */
static void sync_brokers(fe_route *r) {
    Eddy__ClusterMap *m = r->map;
    for (size_t i = 0; i < m->n_brokers; i++) {
        Eddy__BrokerInfo *b = m->brokers[i];
        broker_client *bc = NULL;
        for (size_t j = 0; j < r->n_brokers; j++)
            if (r->brokers[j].id == b->id)
                bc = &r->brokers[j];
        /* a name we could not reach is none: TCP */
        const char *local = r->worker->conf->rpc_local && rpc_local_name_valid(b->local_address)
                                ? b->local_address : "";
        if (bc && bc->address && bc->local && !strcmp(bc->address, b->address) &&
            !strcmp(bc->local, local))
            continue;
        if (!bc) {
            broker_client *nb = realloc(r->brokers, (r->n_brokers + 1) * sizeof *nb);
            if (!nb)
                continue;
            r->brokers = nb;
            bc = &r->brokers[r->n_brokers++];
            memset(bc, 0, sizeof *bc);
            bc->id = b->id;
        } else {
            rpc_client_free(bc->client);
            free(bc->address);
            free(bc->local);
        }
        bc->address = strdup(b->address);
        bc->local = strdup(local);
        rpc_client_opts co = {.tls = r->tls, .local = local};
        bc->client = bc->address && bc->local
                         ? rpc_client_new(r->worker->base, bc->address, &co) : NULL;
    }
}

static void finish_refresh(fe_route *r, int err) {
    r->refreshing = false;
    refresh_waiter *w = r->waiters;
    r->waiters = NULL;
    while (w) {
        refresh_waiter *next = w->next;
        w->cb(err, w->arg);
        free(w);
        w = next;
    }
}

static void on_map(int err, rpc_frame *reply, void *arg) {
    fe_route *r = arg;
    if (!err && reply->hdr->status != EDDY__STATUS__OK)
        err = -EAGAIN;
    if (!err) {
        Eddy__ClusterMap *m =
            (Eddy__ClusterMap *)rpc_frame_unpack_body(reply, &eddy__cluster_map__descriptor);
        if (!m) {
            err = -EBADMSG;
        } else if (r->map && m->version <= r->map->version) {
            protobuf_c_message_free_unpacked(&m->base, NULL); /* nothing new */
        } else {
            Eddy__ClusterMap *old = r->map;
            r->map = m;
            if (rebuild_index(r) < 0) {
                r->map = old;
                protobuf_c_message_free_unpacked(&m->base, NULL);
                err = -ENOMEM;
            } else {
                if (old)
                    protobuf_c_message_free_unpacked(&old->base, NULL);
                sync_brokers(r);
                uint64_t seen = atomic_load(r->worker->map_hint);
                while (seen < m->version &&
                       !atomic_compare_exchange_weak(r->worker->map_hint, &seen, m->version)) {
                }
            }
        }
    }
    if (err && !r->logged_unreachable) {
        LOG_WARN("route", "worker %d: cannot load the cluster map from %s: %s", r->worker->index,
                 rpc_client_address(r->controller), strerror(-err));
        r->logged_unreachable = true;
    } else if (!err && r->logged_unreachable) {
        LOG_INFO("route", "worker %d: cluster map loaded (version %llu)", r->worker->index,
                 (unsigned long long)r->map->version);
        r->logged_unreachable = false;
    }
    finish_refresh(r, err);
}

static void start_refresh(fe_route *r) {
    if (r->refreshing)
        return;
    r->refreshing = true;
    Eddy__GetMapRequest q = EDDY__GET_MAP_REQUEST__INIT;
    q.known_version = r->map ? r->map->version : 0;
    if (!rpc_client_call(r->controller, EDDY__METHOD__GET_MAP, q.known_version, &q.base, NULL,
                         r->worker->conf->request_timeout_ms < 5000
                             ? r->worker->conf->request_timeout_ms
                             : 5000,
                         on_map, r))
        finish_refresh(r, -ENOMEM);
}

void fe_route_refresh(fe_route *r, void (*cb)(int err, void *arg), void *arg) {
    if (!cb) {
        start_refresh(r);
        return;
    }
    refresh_waiter *w = malloc(sizeof *w);
    if (!w) {
        cb(-ENOMEM, arg);
        return;
    }
    w->cb = cb;
    w->arg = arg;
    w->next = r->waiters;
    r->waiters = w;
    start_refresh(r);
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    start_refresh(arg);
}

fe_route *fe_route_new(fe_worker *w) {
    fe_route *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->worker = w;
    if (w->conf->rpc_tls_ca[0]) {
        /* one context per worker: nothing shared between worker threads */
        char why[512];
        if (rpc_tls_new(w->conf->rpc_tls_ca, w->conf->rpc_tls_cert, w->conf->rpc_tls_key,
                        &r->tls, why, sizeof why) < 0) {
            LOG_ERROR("route", "%s", why);
            free(r);
            return NULL;
        }
    }
    rpc_client_opts co = {.tls = r->tls};
    r->controller = rpc_client_new(w->base, w->conf->controller, &co);
    r->timer = event_new(w->base, -1, EV_PERSIST, on_timer, r);
    if (!r->controller || !r->timer) {
        fe_route_free(r);
        return NULL;
    }
    struct timeval tv = {REFRESH_INTERVAL_MS / 1000, (REFRESH_INTERVAL_MS % 1000) * 1000};
    event_add(r->timer, &tv);
    start_refresh(r);
    return r;
}

void fe_route_free(fe_route *r) {
    if (!r)
        return;
    if (r->timer)
        event_free(r->timer);
    /* Freeing a client fails its calls in flight, whose callbacks may look
     * for a client again or ask for a refresh: by then there is none (NULL,
     * as for a broker not in the map), so they answer with an error. */
    rpc_client *ctl = r->controller;
    r->controller = NULL;
    rpc_client_free(ctl);
    for (size_t i = 0; i < r->n_brokers; i++) {
        rpc_client *bc = r->brokers[i].client;
        r->brokers[i].client = NULL;
        rpc_client_free(bc);
    }
    /* requests still waiting for a map get their answer (an error) too */
    while (r->waiters)
        finish_refresh(r, -ECANCELED);
    for (size_t i = 0; i < r->n_brokers; i++) {
        free(r->brokers[i].address);
        free(r->brokers[i].local);
    }
    free(r->brokers);
    free(r->topics);
    free(r->by_name);
    rpc_tls_unref(r->tls);
    if (r->map)
        protobuf_c_message_free_unpacked(&r->map->base, NULL);
    free(r);
}

bool fe_route_ready(const fe_route *r) { return r->map != NULL; }
bool fe_route_behind(const fe_route *r) {
    return atomic_load_explicit(r->worker->map_hint, memory_order_relaxed) > fe_route_version(r);
}
uint64_t fe_route_version(const fe_route *r) { return r->map ? r->map->version : 0; }
const Eddy__ClusterMap *fe_route_map(const fe_route *r) { return r->map; }

const fe_route_topic *fe_route_topic_by_name(fe_route *r, const char *name, size_t len) {
    if (!r->map)
        return NULL;
    size_t slot = hash_name(name, len) & (r->by_name_cap - 1);
    while (r->by_name[slot]) {
        const fe_route_topic *t = &r->topics[r->by_name[slot] - 1];
        if (strlen(t->info->name) == len && !memcmp(t->info->name, name, len))
            return t;
        slot = (slot + 1) & (r->by_name_cap - 1);
    }
    return NULL;
}

const fe_route_topic *fe_route_topic_by_id(fe_route *r, const kafka_uuid *id) {
    for (size_t i = 0; i < r->n_topics; i++)
        if (!memcmp(r->topics[i].id.b, id->b, 16))
            return &r->topics[i];
    return NULL;
}

size_t fe_route_n_topics(const fe_route *r) { return r->n_topics; }
const fe_route_topic *fe_route_topic_at(const fe_route *r, size_t i) {
    return i < r->n_topics ? &r->topics[i] : NULL;
}

const char *fe_route_topic_config(const fe_route_topic *t, const char *name) {
    for (size_t i = 0; i < t->info->n_configs; i++)
        if (!strcmp(t->info->configs[i]->name, name))
            return t->info->configs[i]->value;
    return NULL;
}

const Eddy__PartitionPlacement *fe_route_partition(const fe_route_topic *t, int32_t partition) {
    if (partition < 0 || (size_t)partition >= t->info->n_partitions)
        return NULL;
    const Eddy__PartitionPlacement *p = t->info->partitions[partition];
    /* the controller keeps placements sorted by partition; check anyway */
    if (p->partition == partition)
        return p;
    for (size_t i = 0; i < t->info->n_partitions; i++)
        if (t->info->partitions[i]->partition == partition)
            return t->info->partitions[i];
    return NULL;
}

rpc_client *fe_route_broker(fe_route *r, int32_t broker_id) {
    for (size_t i = 0; i < r->n_brokers; i++)
        if (r->brokers[i].id == broker_id)
            return r->brokers[i].client;
    return NULL;
}

rpc_client *fe_route_controller(fe_route *r) { return r->controller; }

int fe_route_group(arena *a, int n, bool (*pick)(const void *items, int i, int32_t *broker_id),
                   const void *items, fe_broker_group **out) {
    fe_broker_group *g = arena_calloc(a, (size_t)(n > 0 ? n : 1), sizeof *g);
    int *group_of = arena_calloc(a, (size_t)(n > 0 ? n : 1), sizeof *group_of);
    if (!g || !group_of)
        return -ENOMEM;
    /* a request names few brokers: a linear search per item is enough */
    int ng = 0;
    for (int i = 0; i < n; i++) {
        int32_t b;
        group_of[i] = -1;
        if (!pick(items, i, &b))
            continue;
        int k = 0;
        while (k < ng && g[k].broker_id != b)
            k++;
        if (k == ng)
            g[ng++].broker_id = b;
        g[k].n++;
        group_of[i] = k;
    }
    for (int k = 0; k < ng; k++) {
        g[k].idx = arena_calloc(a, (size_t)g[k].n, sizeof *g[k].idx);
        if (!g[k].idx)
            return -ENOMEM;
        g[k].n = 0;
    }
    for (int i = 0; i < n; i++)
        if (group_of[i] >= 0) {
            fe_broker_group *k = &g[group_of[i]];
            k->idx[k->n++] = i;
        }
    *out = g;
    return ng;
}
