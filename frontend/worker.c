#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "fetch_ahead.h"
#include "log.h"
#include "route.h"
#include "stats.h"

typedef struct handoff {
    int fd;
    const fe_listener_conf *listener;
    char peer[64];
    fe_ipkey ip;
    struct handoff *next;
} handoff;

typedef struct inbox {
    pthread_mutex_t lock;
    handoff *head, *tail;
} inbox;

struct fe_workers {
    _Atomic uint64_t map_hint;
    int n;
    int started;              /* threads running (or joined by fe_workers_stop) */
    unsigned next;
    fe_conn_limits *limits;
    /* refusals not logged yet (acceptor thread only) */
    uint64_t refused_unlogged;
    uint64_t refused_logged_ns;
    fe_worker *w;
    pthread_t *threads;
};

static void on_inbox(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    fe_worker *w = arg;
    inbox *ib = w->inbox;
    pthread_mutex_lock(&ib->lock);
    handoff *h = ib->head;
    ib->head = ib->tail = NULL;
    pthread_mutex_unlock(&ib->lock);
    while (h) {
        handoff *next = h->next;
        fe_conn_accept(w, h->fd, h->listener, h->peer, &h->ip);
        free(h);
        h = next;
    }
}

static void *worker_main(void *arg) {
    fe_worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "fe-worker-%d", w->index);
    pthread_setname_np(pthread_self(), name);
    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    fe_conn_close_all(w);
    return NULL;
}

static int worker_init(fe_worker *w, int index, const fe_config *conf, void *tls_ctx) {
    _Atomic uint64_t *hint = w->map_hint;
    fe_conn_limits *limits = w->limits;
    memset(w, 0, sizeof *w);
    w->map_hint = hint;
    w->limits = limits;
    w->index = index;
    w->conf = conf;
    w->tls_ctx = tls_ctx;
    LIST_INIT(&w->conns);
    w->base = event_base_new();
    w->stats = calloc(1, sizeof *w->stats);
    inbox *ib = calloc(1, sizeof *ib);
    if (!w->base || !w->stats || !ib) {
        free(ib);
        return -ENOMEM;
    }
    fe_stats_init(w->stats, conf);
    pthread_mutex_init(&ib->lock, NULL);
    w->inbox = ib;
    w->inbox_ev = event_new(w->base, -1, 0, on_inbox, w);
    w->route = fe_route_new(w);
    if (!w->inbox_ev || !w->route)
        return -ENOMEM;
    return 0;
}

fe_workers *fe_workers_start(const fe_config *conf, void *tls_ctx, int n) {
    if (n <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    fe_workers *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    fe_fetch_ahead_set_budget(conf->fetch_ahead_bytes);
    ws->n = n;
    ws->w = calloc((size_t)n, sizeof *ws->w);
    ws->threads = calloc((size_t)n, sizeof *ws->threads);
    ws->limits = fe_conn_limits_new(conf->max_connections, conf->max_connections_per_ip);
    if (!ws->w || !ws->threads || !ws->limits)
        goto fail;
    for (int i = 0; i < n; i++) {
        ws->w[i].map_hint = &ws->map_hint;
        ws->w[i].limits = ws->limits;
        int r = worker_init(&ws->w[i], i, conf, tls_ctx);
        if (r < 0) {
            eddy_log_err(r, "worker", "cannot set up worker %d", i);
            goto fail;
        }
    }
    for (int i = 0; i < n; i++) {
        int r = pthread_create(&ws->threads[i], NULL, worker_main, &ws->w[i]);
        if (r) {
            eddy_log_err(-r, "worker", "cannot start worker thread %d", i);
            fe_workers_stop(ws); /* the threads started so far, and every worker */
            return NULL;
        }
        ws->started = i + 1;
    }
    return ws;
fail:
    fe_conn_limits_free(ws->limits);
    free(ws->w);
    free(ws->threads);
    free(ws);
    return NULL;
}

/* Over a limit: close at once. Accepting and closing (rather than leaving
 * the socket in the backlog) tells the client right away and keeps the
 * backlog for the clients that fit. A flood of refusals logs one line a
 * second at most. */
static void refuse(fe_workers *ws, int fd, const fe_listener_conf *l, const char *peer,
                   enum fe_admit why) {
    evutil_closesocket(fd);
    ws->refused_unlogged++;
    uint64_t now = fe_now_ns();
    if (ws->refused_logged_ns && now - ws->refused_logged_ns < 1000000000u)
        return;
    const fe_config *conf = ws->w[0].conf;
    if (why == FE_ADMIT_TOTAL)
        LOG_WARN("limits", "%s on %s: refused: max_connections (%d) reached; %" PRIu64
                 " refused since the last report", peer, l->name, conf->max_connections,
                 ws->refused_unlogged);
    else if (why == FE_ADMIT_PER_IP)
        LOG_WARN("limits", "%s on %s: refused: max_connections_per_ip (%d) reached for this "
                 "address; %" PRIu64 " refused since the last report", peer, l->name,
                 conf->max_connections_per_ip, ws->refused_unlogged);
    else
        LOG_ERROR("limits", "%s on %s: refused: out of memory; %" PRIu64
                  " refused since the last report", peer, l->name, ws->refused_unlogged);
    ws->refused_unlogged = 0;
    ws->refused_logged_ns = now;
}

void fe_workers_hand(fe_workers *ws, int fd, const fe_listener_conf *l, const char *peer,
                     const fe_ipkey *ip) {
    enum fe_admit a = fe_conn_limits_acquire(ws->limits, ip);
    if (a != FE_ADMIT_OK) {
        refuse(ws, fd, l, peer, a);
        return;
    }
    fe_worker *w = &ws->w[ws->next++ % (unsigned)ws->n];
    handoff *h = calloc(1, sizeof *h);
    if (!h) {
        fe_conn_limits_release(ws->limits, ip);
        evutil_closesocket(fd);
        return;
    }
    h->fd = fd;
    h->listener = l;
    h->ip = *ip;
    snprintf(h->peer, sizeof h->peer, "%s", peer);
    inbox *ib = w->inbox;
    pthread_mutex_lock(&ib->lock);
    if (ib->tail)
        ib->tail->next = h;
    else
        ib->head = h;
    ib->tail = h;
    pthread_mutex_unlock(&ib->lock);
    event_active(w->inbox_ev, EV_READ, 0);
}

/* After its thread ended (connections already closed): requests still
 * waiting on RPC calls fail with the route and release what they hold, then
 * the loop runs once more without blocking for what they deferred. */
static void worker_free(fe_worker *w) {
    fe_route_free(w->route);
    w->route = NULL;
    if (w->base)
        event_base_loop(w->base, EVLOOP_NONBLOCK);
    inbox *ib = w->inbox;
    if (ib) {
        /* sockets handed over but never taken */
        handoff *h = ib->head;
        while (h) {
            handoff *next = h->next;
            evutil_closesocket(h->fd);
            fe_conn_limits_release(w->limits, &h->ip);
            free(h);
            h = next;
        }
        pthread_mutex_destroy(&ib->lock);
        free(ib);
    }
    if (w->inbox_ev)
        event_free(w->inbox_ev);
    free(w->stats);
    if (w->base)
        event_base_free(w->base);
}

void fe_workers_stop(fe_workers *ws) {
    if (!ws)
        return;
    for (int i = 0; i < ws->started; i++)
        event_base_loopbreak(ws->w[i].base);
    for (int i = 0; i < ws->started; i++)
        pthread_join(ws->threads[i], NULL);
    for (int i = 0; i < ws->n; i++)
        worker_free(&ws->w[i]);
    fe_conn_limits_free(ws->limits);
    free(ws->w);
    free(ws->threads);
    free(ws);
}

int fe_workers_count(const fe_workers *ws) { return ws->n; }
uint64_t fe_workers_refused(const fe_workers *ws) { return fe_conn_limits_refused(ws->limits); }
fe_worker *fe_workers_get(fe_workers *ws, int i) { return &ws->w[i]; }
