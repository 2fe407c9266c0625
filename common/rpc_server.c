/* rpc_server.c — RPC listener: one bufferevent per connection, frames handed
 * to the handler as rpc_call objects.
 *
 * Ownership (written down, as the style guide asks):
 *  - the server owns its listener and holds one reference on each OPEN
 *    connection (dropped when the connection closes);
 *  - each rpc_call holds one reference on its connection and one on its
 *    request frame, both dropped by rpc_call_reply();
 *  - the read callback holds a reference while it runs handlers, because a
 *    handler may close the connection (rpc_server_free) under it.
 * So a call answered after its connection closed finds conn->alive false
 * and drops the reply; the connection memory lives until the last call ends.
 *  - a held reply (rpc_call_reply_held) leaves an rpc_hold on its
 *    connection until the peer's REPLY_ACK; a closed connection's holds
 *    move to the server's grace list, the server releases them. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "log.h"
#include "netaddr.h"
#include "rpc.h"
#include "rpc_local.h"
#include "rpc_tls.h"

/* Stop reading a connection whose replies pile up above this many bytes;
 * resume below half (libevent sample/le-proxy.c). */
#define RPC_SERVER_OUT_HIGH ((size_t)64 << 20)
/* Frames handled per read wakeup, so one busy peer cannot starve the rest of
 * the loop (memcached reqs_per_event). */
#define RPC_FRAMES_PER_WAKEUP 64
/* Large writes (fetch replies are megabytes): libevent's default is 16 KiB
 * per writev. */
#define MAX_SINGLE_WRITE (1u << 20)
/* Bytes read past libevent per read callback (rpc_frame_fill). */
#define FILL_BUDGET_PER_WAKEUP (4u << 20)

struct rpc_link {
    struct rpc_link *prev, *next;
};

/* What a held reply's tail refers to, kept until the peer has read it. */
typedef struct rpc_hold {
    struct rpc_hold *next;
    uint64_t id; /* the reply's id, echoed by REPLY_ACK */
    rpc_release_fn release;
    void *arg;
    struct timeval due; /* on the grace list: when to release */
} rpc_hold;

typedef struct rpc_conn {
    struct rpc_link link; /* first member: the server's list of open conns */
    rpc_server *srv;      /* NULL once closed */
    struct bufferevent *bev;
    uint64_t id;
    int refs;
    bool alive;
    bool paused; /* reading stopped by back-pressure */
    rpc_hold *holds, **holds_end; /* in reply order (acks come in order) */
} rpc_conn;

struct rpc_server {
    struct event_base *base;
    struct evconnlistener *lst;
    struct evconnlistener *lst_local; /* rpc_server_listen_local; NULL: none */
    size_t max_frame;
    size_t out_high;
    rpc_handler_fn handler;
    void *arg;
    rpc_tls *tls; /* NULL: plaintext; one reference held */
    int port;
    uint64_t next_conn_id;
    struct rpc_link conns; /* sentinel */
    rpc_hold *grace, **grace_end; /* holds of closed connections, by due */
    struct event *grace_ev;
    int grace_ms;
};

struct rpc_call {
    rpc_frame *frame;
    rpc_conn *conn;
};

/* noinline: once inlined into conn_read_cb, gcc's -Wuse-after-free cannot
 * see that the callback's own reference keeps k alive across conn_close. */
__attribute__((noinline)) static void conn_unref(rpc_conn *k) {
    if (--k->refs == 0)
        free(k);
}

static void hold_release(rpc_hold *h) {
    h->release(h->arg);
    free(h);
}

/* Due times are on the monotonic clock: a wall-clock step must not end a
 * grace period early (libevent's cached time is wall-clock). */
static void mono_now(struct timeval *tv) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
}

static void grace_arm(rpc_server *s) {
    if (!s->grace || evtimer_pending(s->grace_ev, NULL))
        return;
    struct timeval now, left;
    mono_now(&now);
    if (evutil_timercmp(&s->grace->due, &now, >))
        evutil_timersub(&s->grace->due, &now, &left);
    else
        evutil_timerclear(&left);
    evtimer_add(s->grace_ev, &left);
}

static void grace_cb(evutil_socket_t fd, short what, void *arg) {
    rpc_server *s = arg;
    struct timeval now;
    mono_now(&now);
    while (s->grace && !evutil_timercmp(&s->grace->due, &now, >)) {
        rpc_hold *h = s->grace;
        if (!(s->grace = h->next))
            s->grace_end = &s->grace;
        hold_release(h);
    }
    grace_arm(s);
}

/* Close the socket and forget the connection; calls still held by handlers
 * keep the memory alive through their references. Held replies wait out the
 * grace period: the peer's socket may still hold their bytes unread. */
static void conn_close(rpc_conn *k) {
    if (!k->alive)
        return;
    k->alive = false;
    if (k->holds) {
        rpc_server *s = k->srv;
        struct timeval now, grace = {s->grace_ms / 1000, (s->grace_ms % 1000) * 1000};
        mono_now(&now);
        for (rpc_hold *h = k->holds; h; h = h->next)
            evutil_timeradd(&now, &grace, &h->due);
        *s->grace_end = k->holds;
        s->grace_end = k->holds_end;
        k->holds = NULL;
        k->holds_end = &k->holds;
        grace_arm(s);
    }
    bufferevent_free(k->bev);
    k->bev = NULL;
    k->link.prev->next = k->link.next;
    k->link.next->prev = k->link.prev;
    k->srv = NULL;
    conn_unref(k);
}

/* Back-pressure: called after anything was queued for output. */
static void conn_check_output(rpc_conn *k) {
    if (k->paused || !k->alive)
        return;
    if (evbuffer_get_length(bufferevent_get_output(k->bev)) > k->srv->out_high) {
        k->paused = true;
        bufferevent_disable(k->bev, EV_READ);
    }
}

/* The peer has read the reply @p id: release what it held. */
static void conn_ack(rpc_conn *k, uint64_t id) {
    for (rpc_hold **hp = &k->holds; *hp; hp = &(*hp)->next) {
        rpc_hold *h = *hp;
        if (h->id != id)
            continue;
        if (!(*hp = h->next))
            k->holds_end = hp;
        hold_release(h);
        return;
    }
    LOG_DEBUG("rpc", "connection %llu: ack of reply %llu, which is not held",
              (unsigned long long)k->id, (unsigned long long)id);
}

static void conn_read_cb(struct bufferevent *bev, void *arg) {
    rpc_conn *k = arg;
    k->refs++;
    int handled = 0;
    size_t filled = 0;
    while (k->alive && !k->paused) {
        if (handled == RPC_FRAMES_PER_WAKEUP) {
            /* more may be buffered: come back on the next loop turn */
            bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
            break;
        }
        rpc_frame *f = NULL;
        /* contiguous: handlers read the tail in place (produce rewrites
         * batch offsets there) */
        int r = rpc_frame_take(bufferevent_get_input(bev), k->srv->max_frame, &f);
        /* TLS: the socket carries ciphertext, libevent decrypts */
        if (r == 0 && !k->srv->tls && filled < FILL_BUDGET_PER_WAKEUP) {
            r = rpc_frame_fill(bufferevent_get_input(bev), bufferevent_getfd(bev),
                               FILL_BUDGET_PER_WAKEUP - filled);
            if (r > 0) {
                filled += (size_t)r;
                continue;
            }
            if (r < 0) {
                /* end of stream or an error: libevent reports it at its
                 * next read, through conn_event_cb */
                r = 0;
            }
        }
        if (r == 0)
            break;
        if (r < 0) {
            LOG_WARN("rpc", "closing connection %llu: bad frame (%s)", (unsigned long long)k->id,
                     strerror(-r));
            conn_close(k);
            break;
        }
        if (!f->hdr->response && f->hdr->method == EDDY__METHOD__REPLY_ACK) {
            conn_ack(k, f->hdr->id);
            rpc_frame_unref(f);
            handled++;
            continue;
        }
        rpc_call *call = f->hdr->response ? NULL : malloc(sizeof *call);
        if (!call) {
            /* a response sent to a server is a confused peer; OOM here
             * cannot be answered either: drop the connection */
            LOG_WARN("rpc", "closing connection %llu: %s", (unsigned long long)k->id,
                     f->hdr->response ? "unexpected response frame" : "out of memory");
            rpc_frame_unref(f);
            conn_close(k);
            break;
        }
        call->frame = f;
        call->conn = k;
        k->refs++;
        handled++;
        k->srv->handler(call, k->srv->arg);
    }
    conn_unref(k);
}

/* Output drained to the low watermark (half the high mark): resume. */
static void conn_write_cb(struct bufferevent *bev, void *arg) {
    rpc_conn *k = arg;
    if (!k->paused)
        return;
    k->paused = false;
    bufferevent_enable(bev, EV_READ);
    /* frames already buffered produce no new read event: look at them */
    bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg) {
    rpc_conn *k = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        char why[160];
        rpc_tls_error(bev, why, sizeof why);
        if (why[0]) /* a refused certificate is worth telling an operator */
            LOG_INFO("rpc", "connection %llu: %s", (unsigned long long)k->id, why);
        else if (what & BEV_EVENT_ERROR)
            LOG_DEBUG("rpc", "connection %llu: %s", (unsigned long long)k->id,
                      evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        conn_close(k);
    }
}

static void accept_cb(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg) {
    rpc_server *s = arg;
    int one = 1;
    if (sa && sa->sa_family == AF_UNIX)
        rpc_local_tune(fd);
    else /* small frames (headers, acks) must not wait for Nagle */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    rpc_conn *k = calloc(1, sizeof *k);
    struct bufferevent *bev = !k ? NULL
                              : s->tls ? rpc_tls_bufferevent(s->tls, s->base, fd, true)
                                       : bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        LOG_WARN("rpc", "dropping accepted connection: out of memory");
        free(k);
        evutil_closesocket(fd);
        return;
    }
    k->srv = s;
    k->bev = bev;
    k->id = ++s->next_conn_id;
    k->refs = 1; /* the open connection's own reference */
    k->alive = true;
    k->holds_end = &k->holds;
    k->link.next = &s->conns;
    k->link.prev = s->conns.prev;
    s->conns.prev->next = &k->link;
    s->conns.prev = &k->link;
    bufferevent_setcb(bev, conn_read_cb, conn_write_cb, conn_event_cb, k);
    bufferevent_set_max_single_write(bev, MAX_SINGLE_WRITE);
    bufferevent_setwatermark(bev, EV_WRITE, s->out_high / 2, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void accept_error_cb(struct evconnlistener *lst, void *arg) {
    /* EMFILE and friends: libevent keeps the listener armed; say it once per
     * occurrence so that an operator sees why connections stall */
    LOG_WARN("rpc", "accept: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

rpc_server *rpc_server_new(struct event_base *base, const char *address, size_t max_frame,
                           rpc_handler_fn handler, void *arg) {
    return rpc_server_new_tls(base, address, max_frame, NULL, handler, arg);
}

rpc_server *rpc_server_new_tls(struct event_base *base, const char *address, size_t max_frame,
                               rpc_tls *tls, rpc_handler_fn handler, void *arg) {
    netaddr na;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int r = netaddr_parse(address, &na);
    /* binding happens at startup, before the loop runs: a blocking lookup
     * of a listener's host name is acceptable here */
    if (r == 0)
        r = netaddr_resolve(&na, true, &ss, &sslen);
    if (r < 0 || !handler) {
        errno = r < 0 ? -r : EINVAL;
        return NULL;
    }
    rpc_server *s = calloc(1, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    s->base = base;
    s->max_frame = max_frame ? max_frame : RPC_DEFAULT_MAX_FRAME;
    s->out_high = RPC_SERVER_OUT_HIGH;
    s->handler = handler;
    s->arg = arg;
    s->conns.next = s->conns.prev = &s->conns;
    s->grace_end = &s->grace;
    s->grace_ms = RPC_HOLD_GRACE_MS;
    s->grace_ev = evtimer_new(base, grace_cb, s);
    if (!s->grace_ev) {
        free(s);
        errno = ENOMEM;
        return NULL;
    }
    s->lst = evconnlistener_new_bind(base, accept_cb, s,
                                     LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
                                         LEV_OPT_CLOSE_ON_EXEC,
                                     -1, (struct sockaddr *)&ss, (int)sslen);
    if (!s->lst) {
        int e = errno ? errno : EADDRNOTAVAIL;
        event_free(s->grace_ev);
        free(s);
        errno = e;
        return NULL;
    }
    evconnlistener_set_error_cb(s->lst, accept_error_cb);
    if (tls) {
        s->tls = tls;
        rpc_tls_ref(tls);
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(evconnlistener_get_fd(s->lst), (struct sockaddr *)&bound, &blen) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)&bound)->sin6_port
                            : ((struct sockaddr_in *)&bound)->sin_port);
    return s;
}

void rpc_server_free(rpc_server *s) {
    if (!s)
        return;
    evconnlistener_free(s->lst);
    if (s->lst_local)
        evconnlistener_free(s->lst_local);
    while (s->conns.next != &s->conns)
        conn_close((rpc_conn *)s->conns.next);
    /* the process is stopping: nothing will change the held storage now */
    while (s->grace) {
        rpc_hold *h = s->grace;
        s->grace = h->next;
        hold_release(h);
    }
    event_free(s->grace_ev);
    rpc_tls_unref(s->tls);
    free(s);
}

int rpc_server_port(const rpc_server *s) { return s->port; }

int rpc_server_listen_local(rpc_server *s, const char *name) {
    struct sockaddr_un sun;
    socklen_t len;
    if (s->lst_local)
        return -EEXIST;
    int r = rpc_local_sockaddr(name, &sun, &len);
    if (r < 0)
        return r;
    evutil_socket_t fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sun, len) < 0 || listen(fd, 128) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    s->lst_local = evconnlistener_new(s->base, accept_cb, s, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (!s->lst_local) {
        close(fd);
        return -ENOMEM;
    }
    evconnlistener_set_error_cb(s->lst_local, accept_error_cb);
    return 0;
}

void rpc_server_set_output_limit(rpc_server *s, size_t high) {
    s->out_high = high ? high : RPC_SERVER_OUT_HIGH;
    for (struct rpc_link *l = s->conns.next; l != &s->conns; l = l->next)
        bufferevent_setwatermark(((rpc_conn *)l)->bev, EV_WRITE, s->out_high / 2, 0);
}

void rpc_server_set_hold_grace(rpc_server *s, int ms) { s->grace_ms = ms > 0 ? ms : 0; }

rpc_frame *rpc_call_frame(rpc_call *call) { return call->frame; }

bool rpc_call_peer_alive(const rpc_call *call) { return call->conn->alive; }

uint64_t rpc_call_conn_id(const rpc_call *call) { return call->conn->id; }

bool rpc_call_can_hold(const rpc_call *call) {
    return call->conn->alive && !call->conn->srv->tls && call->frame->hdr->acks_held;
}

/* rpc_call_reply, held when @p hold is set (owned: kept or released). */
static int reply(rpc_call *call, Eddy__Status status, const ProtobufCMessage *body,
                 struct evbuffer *tail, rpc_hold *hold) {
    rpc_conn *k = call->conn;
    int r;
    if (k->alive) {
        Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
        hdr.id = call->frame->hdr->id;
        hdr.method = call->frame->hdr->method;
        hdr.response = true;
        hdr.status = status;
        hdr.held = hold != NULL;
        r = rpc_frame_write(bufferevent_get_output(k->bev), &hdr, body, tail);
        if (r == 0) {
            if (hold) {
                hold->id = hdr.id;
                hold->next = NULL;
                *k->holds_end = hold;
                k->holds_end = &hold->next;
                hold = NULL;
            }
            conn_check_output(k);
        } else {
            LOG_WARN("rpc", "closing connection %llu: cannot send a reply (%s)",
                     (unsigned long long)k->id, strerror(-r));
            conn_close(k);
        }
    } else {
        /* keep the "tail is moved" contract even when the reply is dropped */
        if (tail)
            evbuffer_drain(tail, evbuffer_get_length(tail));
        r = -ENOTCONN;
    }
    if (hold) /* not sent */
        hold_release(hold);
    rpc_frame_unref(call->frame);
    conn_unref(k);
    free(call);
    return r;
}

int rpc_call_reply(rpc_call *call, Eddy__Status status, const ProtobufCMessage *body,
                   struct evbuffer *tail) {
    return reply(call, status, body, tail, NULL);
}

int rpc_call_reply_held(rpc_call *call, Eddy__Status status, const ProtobufCMessage *body,
                        struct evbuffer *tail, rpc_release_fn release, void *arg) {
    rpc_hold *hold = malloc(sizeof *hold);
    if (!hold) {
        /* the tail cannot leave unheld: drop the connection, the peer
         * learns at once and retries */
        rpc_conn *k = call->conn;
        if (k->alive)
            LOG_WARN("rpc", "closing connection %llu: out of memory", (unsigned long long)k->id);
        conn_close(k);
        reply(call, status, body, tail, NULL);
        release(arg);
        return -ENOMEM;
    }
    hold->release = release;
    hold->arg = arg;
    return reply(call, status, body, tail, hold);
}
