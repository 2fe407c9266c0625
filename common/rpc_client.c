/* rpc_client.c — one multiplexed RPC connection to one peer.
 *
 * States: IDLE (no socket, nothing to do) -> WAIT (a timer runs: 0 ms after
 * the first call, the backoff after a failure) -> CONNECTING (resolving the
 * name, then trying its addresses in turn, under connect_timeout_ms) ->
 * CONNECTED. A failure fails every pending call and goes back to WAIT with a
 * doubled backoff; when that timer fires with calls queued the client
 * connects again, else it goes IDLE and the next call kicks it.
 *
 * Pending calls live in a hash by id (replies are matched in O(1)) and in a
 * list in id order (queued frames are sent in call order on connect, and
 * failures are reported in call order). Each call has its own timer.
 *
 * A call made while not connected keeps its encoded frame in its own
 * evbuffer until the connection is up, so that a call that is cancelled or
 * times out before that is never sent: -ECONNREFUSED then means "not sent,
 * safe to retry", which matters for PRODUCE.
 *
 * Names are resolved with evdns, one evdns_base per client, created on the
 * first connect that needs it; numeric addresses never touch it. All
 * addresses of a name are tried in turn ("localhost" may give ::1 before
 * 127.0.0.1, a compose service may have both families), which
 * bufferevent_socket_connect_hostname() would not do.
 *
 * Re-entrancy: user callbacks may call rpc_client_call/cancel/free. Every
 * entry point from libevent counts itself in c->busy; rpc_client_free()
 * inside a callback tears the connection down and fails the other calls at
 * once but defers free(c) until the outermost entry point returns. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "log.h"
#include "netaddr.h"
#include "rpc.h"
#include "rpc_local.h"
#include "rpc_tls.h"

#define BACKOFF_MIN_MS 50
#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_BACKOFF_MAX_MS 1000
#define MIN_BUCKETS 64
/* Large writes: libevent's default is 16 KiB per writev. */
#define MAX_SINGLE_WRITE (1u << 20)
/* Bytes read past libevent per read callback (rpc_frame_fill), so that one
 * connection receiving a huge reply does not hold the loop for long. In the
 * frontend the same thread writes fetch responses to the client: 1 MiB
 * reads against 4 MiB writes (FE_MAX_SINGLE_WRITE) kept the client fed
 * while read-aheads arrive; with 4 MiB reads and 1 MiB writes a 2 GB
 * consume ran at 0.75x (docs/performance.md). */
#define FILL_BUDGET_PER_WAKEUP (1u << 20)

struct rpc_link {
    struct rpc_link *prev, *next;
};

typedef struct pcall {
    struct rpc_link link; /* first member: c->calls, or a local list in fail_all */
    struct pcall *hnext;  /* hash chain */
    rpc_client *c;
    uint64_t id;
    rpc_reply_cb cb;
    void *arg;
    unsigned flags;          /* RPC_CALL_* */
    struct event *timer;     /* NULL: no deadline */
    struct evbuffer *queued; /* the frame until handed to a connection */
} pcall;

/* One outstanding name lookup. Separate from the client because evdns may
 * call back after the client is gone (a cancelled lookup still reports
 * EVUTIL_EAI_CANCEL): then c is NULL and the callback only frees this. */
typedef struct rpc_lookup {
    rpc_client *c;
    struct evdns_getaddrinfo_request *req;
} rpc_lookup;

enum cstate { CS_IDLE, CS_WAIT, CS_CONNECTING, CS_CONNECTED };

struct rpc_client {
    struct event_base *base;
    char *address;
    netaddr na;
    bool numeric;
    struct sockaddr_storage sa;
    socklen_t salen;
    struct sockaddr_un local_sa; /* the peer's local listener, if local_len */
    socklen_t local_len;
    bool on_local;               /* the attempt or connection is local */
    size_t max_frame;
    int connect_timeout_ms;
    int backoff_max_ms;
    int backoff_ms; /* wait before the next attempt after a failure */
    rpc_tls *tls;   /* NULL: plaintext; one reference held */
    enum cstate state;
    struct bufferevent *bev;
    struct event *wait_timer; /* kick / backoff */
    struct event *conn_timer; /* connect deadline */
    struct evdns_base *dns;
    bool dns_async; /* a lookup went to the network at least once */
    rpc_lookup *lookup;
    struct evutil_addrinfo *ai, *ai_next; /* addresses being tried */
    bool down_logged;                     /* failure logged since last connect */
    pcall **buckets;
    size_t nbuckets; /* power of two */
    size_t ncalls;
    struct rpc_link calls; /* sentinel */
    uint64_t next_id;
    int busy;
    bool freeing;
};

static void ms_to_tv(int ms, struct timeval *tv) {
    tv->tv_sec = ms / 1000;
    tv->tv_usec = (ms % 1000) * 1000;
}

/* ---- pending calls -------------------------------------------------------- */

static pcall **bucket_of(rpc_client *c, uint64_t id) { return &c->buckets[id & (c->nbuckets - 1)]; }

static pcall *call_find(rpc_client *c, uint64_t id) {
    for (pcall *p = *bucket_of(c, id); p; p = p->hnext)
        if (p->id == id)
            return p;
    return NULL;
}

/* Keep the load factor at most 1. Rehash from the buckets, not the list:
 * calls being failed sit on a local list but stay findable for cancel. */
static int calls_reserve(rpc_client *c) {
    if (c->ncalls < c->nbuckets)
        return 0;
    size_t n = c->nbuckets * 2;
    pcall **nb = calloc(n, sizeof *nb);
    if (!nb)
        return -ENOMEM;
    for (size_t i = 0; i < c->nbuckets; i++) {
        pcall *p = c->buckets[i];
        while (p) {
            pcall *next = p->hnext;
            p->hnext = nb[p->id & (n - 1)];
            nb[p->id & (n - 1)] = p;
            p = next;
        }
    }
    free(c->buckets);
    c->buckets = nb;
    c->nbuckets = n;
    return 0;
}

/* Remove @p pc from the hash and from whatever list holds it; release its
 * timer and queued frame. The caller frees pc. */
static void call_detach(rpc_client *c, pcall *pc) {
    pcall **pp = bucket_of(c, pc->id);
    while (*pp != pc)
        pp = &(*pp)->hnext;
    *pp = pc->hnext;
    pc->link.prev->next = pc->link.next;
    pc->link.next->prev = pc->link.prev;
    c->ncalls--;
    if (pc->timer)
        event_free(pc->timer);
    if (pc->queued)
        evbuffer_free(pc->queued);
}

/* Complete a call: it is gone from every structure before its callback
 * runs, so the callback may do anything to the client. */
static void call_finish(rpc_client *c, pcall *pc, int err, rpc_frame *reply) {
    rpc_reply_cb cb = pc->cb;
    void *arg = pc->arg;
    call_detach(c, pc);
    free(pc);
    cb(err, reply, arg);
}

/* Fail the calls pending now; calls made by the callbacks meanwhile belong
 * to the next attempt and are left alone (else a callback that retries at
 * once would loop forever). */
static void fail_all(rpc_client *c, int err) {
    struct rpc_link local;
    if (c->calls.next == &c->calls)
        return;
    local.next = c->calls.next;
    local.prev = c->calls.prev;
    local.next->prev = &local;
    local.prev->next = &local;
    c->calls.next = c->calls.prev = &c->calls;
    while (local.next != &local)
        call_finish(c, (pcall *)local.next, err, NULL);
}

/* ---- connection ------------------------------------------------------------ */

static void start_connect(rpc_client *c);
static void start_tcp(rpc_client *c);
static void try_next_address(rpc_client *c, const char *why);

static void destroy(rpc_client *c);

/* Every libevent entry point brackets its work with these two. */
static void enter(rpc_client *c) { c->busy++; }

static void leave(rpc_client *c) {
    if (--c->busy == 0 && c->freeing)
        destroy(c);
}

static void cancel_lookup(rpc_client *c) {
    rpc_lookup *lk = c->lookup;
    if (!lk)
        return;
    c->lookup = NULL;
    lk->c = NULL; /* the EVUTIL_EAI_CANCEL callback frees lk */
    evdns_getaddrinfo_cancel(lk->req);
}

/* Drop the socket and anything of a connect attempt; calls stay. */
static void close_conn(rpc_client *c) {
    c->on_local = false;
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    cancel_lookup(c);
    if (c->ai) {
        evutil_freeaddrinfo(c->ai);
        c->ai = c->ai_next = NULL;
    }
    if (c->conn_timer)
        event_del(c->conn_timer);
}

static void enter_wait(rpc_client *c, int ms) {
    struct timeval tv;
    ms_to_tv(ms, &tv);
    c->state = CS_WAIT;
    evtimer_add(c->wait_timer, &tv);
}

static void next_backoff(rpc_client *c) {
    c->backoff_ms = c->backoff_ms >= c->backoff_max_ms / 2 ? c->backoff_max_ms : c->backoff_ms * 2;
}

static void connect_failed(rpc_client *c, const char *why) {
    close_conn(c);
    /* Log the first failure after a success only: a peer that stays down
     * must not fill the log at every backoff step. */
    if (!c->down_logged) {
        LOG_WARN("rpc", "cannot connect to %s: %s (retrying)", c->address, why);
        c->down_logged = true;
    }
    enter_wait(c, c->backoff_ms);
    next_backoff(c);
    fail_all(c, -ECONNREFUSED);
}

static void conn_lost(rpc_client *c, const char *why) {
    close_conn(c);
    LOG_WARN("rpc", "connection to %s lost: %s", c->address, why);
    c->down_logged = true;
    c->backoff_ms = BACKOFF_MIN_MS;
    enter_wait(c, c->backoff_ms);
    next_backoff(c);
    fail_all(c, -ECONNRESET);
}

static void on_connected(rpc_client *c) {
    int one = 1;
    if (c->on_local)
        rpc_local_tune(bufferevent_getfd(c->bev));
    else
        setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bufferevent_set_max_single_write(c->bev, MAX_SINGLE_WRITE);
    event_del(c->conn_timer);
    if (c->ai) {
        evutil_freeaddrinfo(c->ai);
        c->ai = c->ai_next = NULL;
    }
    c->state = CS_CONNECTED;
    c->backoff_ms = BACKOFF_MIN_MS;
    LOG_INFO("rpc", "connected to %s%s", c->address, c->on_local ? " (local socket)" : "");
    c->down_logged = false;
    /* send the queued frames in call order; moving between our own
     * unfrozen evbuffers does not fail */
    struct evbuffer *out = bufferevent_get_output(c->bev);
    for (struct rpc_link *l = c->calls.next; l != &c->calls; l = l->next) {
        pcall *pc = (pcall *)l;
        if (pc->queued) {
            evbuffer_add_buffer(out, pc->queued);
            evbuffer_free(pc->queued);
            pc->queued = NULL;
        }
    }
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static int send_ack(rpc_client *c, uint64_t id) {
    Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
    hdr.id = id;
    hdr.method = EDDY__METHOD__REPLY_ACK;
    return rpc_frame_write(bufferevent_get_output(c->bev), &hdr, NULL, NULL);
}

static void read_cb(struct bufferevent *bev, void *arg) {
    rpc_client *c = arg;
    enter(c);
    size_t filled = 0;
    while (!c->freeing && c->bev == bev) {
        struct evbuffer *in = bufferevent_get_input(bev);
        rpc_frame *f = NULL;
        /* split: a fetch reply's tail goes on to the client uncopied */
        int r = rpc_frame_take_split(in, c->max_frame, &f);
        if (r == 0) {
            /* TLS: the socket carries ciphertext, libevent decrypts */
            if (c->tls || filled >= FILL_BUDGET_PER_WAKEUP)
                break;
            r = rpc_frame_fill(in, bufferevent_getfd(bev), FILL_BUDGET_PER_WAKEUP - filled);
            if (r > 0) {
                filled += (size_t)r;
                continue;
            }
            if (r < 0)
                conn_lost(c, r == -ECONNRESET ? "closed by peer" : strerror(-r));
            break;
        }
        if (r < 0) {
            conn_lost(c, r == -EMSGSIZE ? "frame too large"
                         : r == -ENOMEM ? "out of memory" : "malformed frame");
            break;
        }
        /* All of a held reply is out of the socket now, so the server may
         * let its storage change (rpc_call_reply_held); acknowledged even
         * when nobody waits for the reply any more. */
        if (f->hdr->held && send_ack(c, f->hdr->id) < 0) {
            rpc_frame_unref(f);
            conn_lost(c, "out of memory");
            break;
        }
        /* a reply for a cancelled or timed-out call is dropped */
        pcall *pc = f->hdr->response ? call_find(c, f->hdr->id) : NULL;
        if (pc && !(pc->flags & RPC_CALL_SPLIT_TAIL) && !rpc_frame_tail_pullup(f))
            call_finish(c, pc, -ENOMEM, NULL);
        else if (pc)
            call_finish(c, pc, 0, f);
        rpc_frame_unref(f);
    }
    leave(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg) {
    rpc_client *c = arg;
    int e = EVUTIL_SOCKET_ERROR();
    enter(c);
    if (what & BEV_EVENT_CONNECTED) {
        on_connected(c);
    } else if (c->state == CS_CONNECTING) {
        /* this address failed (connect or TLS handshake): try the next one
         * of the name */
        char why[160];
        rpc_tls_error(bev, why, sizeof why);
        bufferevent_free(c->bev);
        c->bev = NULL;
        if (c->on_local) {
            /* not reachable from here (another host or namespace, or a
             * broker that restarted under a new name): TCP */
            c->on_local = false;
            start_tcp(c);
        } else {
            try_next_address(c, why[0] ? why : evutil_socket_error_to_string(e));
        }
    } else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        char why[160];
        rpc_tls_error(bev, why, sizeof why);
        conn_lost(c, why[0] ? why
                     : (what & BEV_EVENT_EOF) ? "closed by peer"
                                              : evutil_socket_error_to_string(e));
    }
    leave(c);
}

/* Open a bufferevent towards one address. Errors of the connect itself
 * arrive later through event_cb. */
static int try_address(rpc_client *c, const struct sockaddr *sa, socklen_t len) {
    c->bev = c->tls ? rpc_tls_bufferevent(c->tls, c->base, -1, false)
                    : bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev)
        return -ENOMEM;
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)sa, (int)len) < 0) {
        bufferevent_free(c->bev);
        c->bev = NULL;
        return -ECONNREFUSED;
    }
    return 0;
}

static void dns_cb(int err, struct evutil_addrinfo *res, void *arg) {
    rpc_lookup *lk = arg;
    rpc_client *c = lk->c;
    free(lk);
    if (!c) { /* cancelled: the client moved on or is gone */
        if (res)
            evutil_freeaddrinfo(res);
        return;
    }
    enter(c);
    c->lookup = NULL;
    if (err) {
        if (res)
            evutil_freeaddrinfo(res);
        connect_failed(c, evutil_gai_strerror(err));
    } else {
        c->ai = c->ai_next = res;
        try_next_address(c, "no usable address");
    }
    leave(c);
}

static int create_dns(rpc_client *c) {
    /* DISABLE_WHEN_INACTIVE: no UDP socket is kept in the loop between
     * lookups, so an idle client does not keep event_base_dispatch alive. */
    c->dns = evdns_base_new(c->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                         EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (!c->dns) {
        /* no usable resolv.conf: the hosts file still names things */
        c->dns = evdns_base_new(c->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (!c->dns)
            return -ENOMEM;
        evdns_base_load_hosts(c->dns, NULL);
    }
    return 0;
}

static void start_lookup(rpc_client *c) {
    if (!c->dns && create_dns(c) < 0) {
        connect_failed(c, "cannot create a DNS resolver");
        return;
    }
    rpc_lookup *lk = calloc(1, sizeof *lk);
    if (!lk) {
        connect_failed(c, "out of memory");
        return;
    }
    lk->c = c;
    c->lookup = lk;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)c->na.port);
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = EVUTIL_AI_NUMERICSERV;
    /* Answers from the hosts file come back synchronously, inside this
     * call, and then NULL is returned and lk is already freed. */
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(c->dns, c->na.host, port, &hints, dns_cb, lk);
    if (req) {
        lk->req = req;
        c->dns_async = true;
    }
}

/* Begin an attempt: the deadline covers the lookup and every address. */
static void start_connect(rpc_client *c) {
    struct timeval tv;
    ms_to_tv(c->connect_timeout_ms, &tv);
    c->state = CS_CONNECTING;
    evtimer_add(c->conn_timer, &tv);
    if (c->local_len) {
        c->on_local = true;
        if (try_address(c, (struct sockaddr *)&c->local_sa, c->local_len) == 0)
            return;
        c->on_local = false;
    }
    start_tcp(c);
}

/* The TCP part of an attempt, under the deadline start_connect set. */
static void start_tcp(rpc_client *c) {
    if (!c->numeric)
        start_lookup(c);
    else if (try_address(c, (struct sockaddr *)&c->sa, c->salen) < 0)
        connect_failed(c, "cannot open a socket");
}

/* Try the next address of the name (the lookup just answered, or the
 * previous address failed for @p why); fail the attempt when none is left. */
static void try_next_address(rpc_client *c, const char *why) {
    while (c->ai_next) {
        struct evutil_addrinfo *a = c->ai_next;
        c->ai_next = a->ai_next;
        if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
            try_address(c, a->ai_addr, (socklen_t)a->ai_addrlen) == 0)
            return;
    }
    connect_failed(c, why);
}

static void wait_timer_cb(evutil_socket_t fd, short what, void *arg) {
    rpc_client *c = arg;
    enter(c);
    if (c->ncalls == 0)
        c->state = CS_IDLE; /* nobody waits: the next call kicks us */
    else
        start_connect(c);
    leave(c);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg) {
    rpc_client *c = arg;
    enter(c);
    connect_failed(c, "connect timed out");
    leave(c);
}

static void call_timer_cb(evutil_socket_t fd, short what, void *arg) {
    pcall *pc = arg;
    rpc_client *c = pc->c;
    enter(c);
    /* never sent: we could not connect in time, and a retry is safe */
    call_finish(c, pc, pc->queued ? -ECONNREFUSED : -ETIMEDOUT, NULL);
    leave(c);
}

/* ---- public ------------------------------------------------------------------ */

rpc_client *rpc_client_new(struct event_base *base, const char *address, const rpc_client_opts *opts) {
    rpc_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (netaddr_parse(address, &c->na) < 0 || c->na.host[0] == '\0' || c->na.port == 0) {
        free(c);
        return NULL;
    }
    c->base = base;
    c->numeric = netaddr_to_sockaddr(&c->na, &c->sa, &c->salen) == 0;
    c->max_frame = opts && opts->max_frame ? opts->max_frame : RPC_DEFAULT_MAX_FRAME;
    c->connect_timeout_ms =
        opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    c->backoff_max_ms = opts && opts->backoff_max_ms > 0 ? opts->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
    if (c->backoff_max_ms < BACKOFF_MIN_MS)
        c->backoff_max_ms = BACKOFF_MIN_MS;
    c->backoff_ms = BACKOFF_MIN_MS;
    if (opts && opts->local && opts->local[0] &&
        rpc_local_sockaddr(opts->local, &c->local_sa, &c->local_len) < 0) {
        free(c);
        return NULL;
    }
    if (opts && opts->tls) {
        c->tls = opts->tls;
        rpc_tls_ref(c->tls);
    }
    c->state = CS_IDLE;
    c->calls.next = c->calls.prev = &c->calls;
    c->next_id = 1;
    c->nbuckets = MIN_BUCKETS;
    size_t alen = strlen(address) + 1;
    c->address = malloc(alen);
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    c->wait_timer = evtimer_new(base, wait_timer_cb, c);
    c->conn_timer = evtimer_new(base, conn_timer_cb, c);
    if (!c->address || !c->buckets || !c->wait_timer || !c->conn_timer) {
        destroy(c);
        return NULL;
    }
    memcpy(c->address, address, alen);
    return c;
}

static void dns_free_cb(evutil_socket_t fd, short what, void *arg) { evdns_base_free(arg, 0); }

static void destroy(rpc_client *c) {
    close_conn(c);
    if (c->wait_timer)
        event_free(c->wait_timer);
    if (c->conn_timer)
        event_free(c->conn_timer);
    if (c->dns) {
        /* evdns may still run deferred callbacks that touch its base (a
         * cancelled lookup, or the second half of an A/AAAA pair): free the
         * base on a later loop turn, after those have run. */
        static const struct timeval now = {0, 0};
        if (!c->dns_async || event_base_once(c->base, -1, EV_TIMEOUT, dns_free_cb, c->dns, &now) < 0)
            evdns_base_free(c->dns, 0);
    }
    rpc_tls_unref(c->tls);
    free(c->buckets);
    free(c->address);
    free(c);
}

void rpc_client_free(rpc_client *c) {
    if (!c || c->freeing)
        return;
    enter(c);
    c->freeing = true;
    close_conn(c);
    event_del(c->wait_timer);
    c->state = CS_IDLE;
    fail_all(c, -ECANCELED);
    leave(c);
}

const char *rpc_client_address(const rpc_client *c) { return c->address; }

bool rpc_client_connected(const rpc_client *c) { return c->state == CS_CONNECTED; }

bool rpc_client_connected_local(const rpc_client *c) {
    return c->state == CS_CONNECTED && c->on_local;
}

uint64_t rpc_client_call(rpc_client *c, Eddy__Method method, uint64_t map_version,
                         const ProtobufCMessage *body, struct evbuffer *tail, int timeout_ms,
                         rpc_reply_cb cb, void *arg) {
    return rpc_client_call_ex(c, method, map_version, body, tail, timeout_ms, 0, cb, arg);
}

uint64_t rpc_client_call_ex(rpc_client *c, Eddy__Method method, uint64_t map_version,
                            const ProtobufCMessage *body, struct evbuffer *tail, int timeout_ms,
                            unsigned flags, rpc_reply_cb cb, void *arg) {
    if (!c || c->freeing || !cb || calls_reserve(c) < 0)
        return 0;
    pcall *pc = calloc(1, sizeof *pc);
    if (!pc)
        return 0;
    pc->c = c;
    pc->cb = cb;
    pc->arg = arg;
    pc->flags = flags;
    pc->id = c->next_id;
    if (timeout_ms > 0 && !(pc->timer = evtimer_new(c->base, call_timer_cb, pc)))
        goto fail;
    struct evbuffer *out;
    if (c->state == CS_CONNECTED) {
        out = bufferevent_get_output(c->bev);
    } else if (!(out = pc->queued = evbuffer_new())) {
        goto fail;
    }
    Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
    hdr.id = pc->id;
    hdr.method = method;
    hdr.map_version = map_version;
    hdr.acks_held = true; /* read_cb acknowledges held replies */
    /* rpc_frame_write is atomic: on failure nothing went to the socket */
    if (rpc_frame_write(out, &hdr, body, tail) < 0)
        goto fail;
    c->next_id++;
    pcall **b = bucket_of(c, pc->id);
    pc->hnext = *b;
    *b = pc;
    pc->link.next = &c->calls;
    pc->link.prev = c->calls.prev;
    c->calls.prev->next = &pc->link;
    c->calls.prev = &pc->link;
    c->ncalls++;
    if (pc->timer) {
        struct timeval tv;
        ms_to_tv(timeout_ms, &tv);
        evtimer_add(pc->timer, &tv);
    }
    /* connect from the loop, never from here: a failure must not run
     * callbacks before the caller has the call id */
    if (c->state == CS_IDLE)
        enter_wait(c, 0);
    return pc->id;
fail:
    if (pc->timer)
        event_free(pc->timer);
    if (pc->queued)
        evbuffer_free(pc->queued);
    free(pc);
    return 0;
}

void rpc_client_cancel(rpc_client *c, uint64_t id) {
    if (!c)
        return;
    pcall *pc = call_find(c, id);
    if (pc) {
        call_detach(c, pc);
        free(pc);
    }
}
