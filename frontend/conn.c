/* conn.c — one client connection: frames in, responses out in order.
 *
 * Reading: peek the 4-byte size, cap it (far lower before authentication),
 * wait for the whole frame, copy it out once into a refcounted fe_frame and
 * dispatch it. Reading stops while too many requests are in flight or the
 * output is backed up, and resumes when they drain (back-pressure).
 *
 * Writing: every request has a slot in `pending`; responses are written only
 * from the head of the queue, so they leave in request order however the
 * handlers complete.
 *
 * Timeouts: one timer per connection, armed only when idle_timeout_ms is set
 * or the listener uses SASL (auth_timeout_ms). Reads and completed writes
 * just stamp last_active_ns; the timer checks the stamp when it fires and
 * re-arms for the next deadline, so the hot path never touches it. A
 * connection is idle only when nothing is pending: no request in flight (a
 * long-poll Fetch waiting for data is not idleness) and no output unsent. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "byteorder.h"
#include "dispatch.h"
#include "fetch_ahead.h"
#include "fe.h"
#include "kafka_api.h"
#include "log.h"
#include "net_read.h"
#include "stats.h"
#include "scram.h"
#include "tls.h"

/* Output above this stops reading until the client drains it. */
#define FE_OUT_HIGH (8u << 20)

uint64_t fe_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t fe_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fe_frame_ref(fe_frame *f) { f->refs++; }

void fe_frame_unref(fe_frame *f) {
    if (f && --f->refs == 0)
        free(f);
}

void fe_frame_release(void *f) { fe_frame_unref(f); }

void fe_frame_evbuffer_cleanup(const void *data, size_t len, void *extra) {
    (void)data;
    (void)len;
    fe_frame_unref(extra);
}

/* Fetch responses are megabytes; see FILL_BUDGET_PER_WAKEUP in
 * common/rpc_client.c for why 4 MiB. */
#define FE_MAX_SINGLE_WRITE (4u << 20)
/* Bytes read per wakeup of a plain connection, libevent's and ours. */
#define FE_MAX_SINGLE_READ (1u << 20)

static void conn_unref(fe_conn *c) {
    if (--c->refs > 0)
        return;
    fe_fetch_ahead_free(c);
    fe_scram_free(&c->scram);
    free(c);
}

static void conn_readcb(struct bufferevent *bev, void *arg);
static void conn_writecb(struct bufferevent *bev, void *arg);
static void conn_eventcb(struct bufferevent *bev, short what, void *arg);

/* Drop the socket; requests still in flight keep the struct alive. */
static void conn_close(fe_conn *c) {
    if (c->closed)
        return;
    c->closed = true;
    LIST_REMOVE(c, link);
    fe_conn_limits_release(c->worker->limits, &c->ip);
    if (c->timer) {
        event_free(c->timer);
        c->timer = NULL;
    }
    fe_stats_conn_closed(c->worker->stats, c->listener);
    if (c->listener->sasl && c->authenticated)
        fe_stats_conn_policy_closed(c->worker->stats, c->principal);
    bufferevent_free(c->bev);
    c->bev = NULL;
    fe_req *r;
    /* finished-but-unwritten responses will never be written */
    while ((r = TAILQ_FIRST(&c->pending)) && r->done) {
        TAILQ_REMOVE(&c->pending, r, link);
        if (r->resp)
            evbuffer_free(r->resp);
        arena_free(&r->arena);
        fe_frame_unref(r->frame);
        free(r);
        conn_unref(c);
    }
    conn_unref(c); /* the socket's own reference */
}

/* Response bytes not yet taken by the socket: with TLS some of them have
 * left the bufferevent's output, encrypted, and wait on the socket side. */
static size_t conn_unsent(fe_conn *c) {
    size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
    return c->listener->tls ? n + fe_tls_unsent(c->bev) : n;
}

static void update_reading(fe_conn *c) {
    if (c->closed)
        return;
    bool want = !c->closing && c->inflight < c->worker->conf->max_inflight &&
                conn_unsent(c) < FE_OUT_HIGH;
    if (want && !c->reading) {
        bufferevent_enable(c->bev, EV_READ);
        c->reading = true;
        /* frames may already be buffered */
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) >= 4)
            conn_readcb(c->bev, c);
    } else if (!want && c->reading) {
        bufferevent_disable(c->bev, EV_READ);
        c->reading = false;
    }
}

/* Write every finished response at the head of the queue. */
static void flush_head_held(fe_conn *c);

/* Each request written drops its reference on the connection; once the
 * socket is gone the last one frees it, so hold one across the loop. */
static void flush_head(fe_conn *c) {
    c->refs++;
    flush_head_held(c);
    conn_unref(c);
}

static void flush_head_held(fe_conn *c) {
    fe_req *r;
    while ((r = TAILQ_FIRST(&c->pending)) && r->done) {
        TAILQ_REMOVE(&c->pending, r, link);
        c->inflight--;
        if (r->resp) {
            if (!c->closed) {
                fe_stats_bytes_out(c->worker->stats, evbuffer_get_length(r->resp));
                bufferevent_write_buffer(c->bev, r->resp);
            }
            evbuffer_free(r->resp);
        }
        arena_free(&r->arena);
        fe_frame_unref(r->frame);
        free(r);
        conn_unref(c);
    }
    if (c->closed)
        return;
    if (c->closing && TAILQ_EMPTY(&c->pending)) {
        if (conn_unsent(c) == 0)
            conn_close(c);
        /* else conn_writecb closes once the output is drained */
        return;
    }
    update_reading(c);
}

void fe_resp_begin(fe_req *req, kafka_writer *w) {
    kw_init(w);
    (void)kw_reserve_i32(w); /* size, patched in fe_req_finish */
    kafka_resp_header_write(w, req->hdr.correlation_id,
                            kafka_api_resp_header_version(req->hdr.api_key, req->hdr.api_version));
}

void fe_req_finish(fe_req *req, kafka_writer *w) {
    fe_conn *c = req->conn;
    uint64_t took = fe_now_ns() - req->started_ns;
    fe_stats_request_done(req->worker->stats, req->hdr.api_key, took);
    if (kw_error(w)) {
        kw_free(w);
        LOG_ERROR("conn", "%s: out of memory encoding %s response", c->peer,
                  kafka_api_name(req->hdr.api_key) ? kafka_api_name(req->hdr.api_key) : "?");
        req->done = true;
        c->closing = true;
        flush_head(c);
        return;
    }
    /* fe_resp_begin reserved the size as the writer's very first bytes */
    kw_mark size_mark = {0, 0};
    kw_patch_i32(w, size_mark, (int32_t)(kw_len(w) - 4));
    req->resp = evbuffer_new();
    if (!req->resp || kw_to_evbuffer(w, req->resp) < 0) {
        kw_free(w);
        c->closing = true;
    }
    req->done = true;
    flush_head(c);
}

void fe_req_finish_and_close(fe_req *req, kafka_writer *w) {
    /* closing stops reading at once; flush_head closes after the write */
    req->conn->closing = true;
    fe_req_finish(req, w);
}

void fe_req_finish_silent(fe_req *req) {
    fe_stats_request_done(req->worker->stats, req->hdr.api_key, fe_now_ns() - req->started_ns);
    req->done = true;
    flush_head(req->conn);
}

void fe_req_fail(fe_req *req, const char *why) {
    fe_conn *c = req->conn;
    if (!c->closed)
        LOG_INFO("conn", "%s: closing: %s (api %d v%d)", c->peer, why, req->hdr.api_key,
                 req->hdr.api_version);
    fe_stats_glitch(req->worker->stats);
    req->done = true;
    c->closing = true;
    flush_head(c);
}

bool fe_req_conn_alive(const fe_req *req) { return !req->conn->closed; }

/* One complete frame of @p size bytes is at the head of the input. */
static int take_frame(fe_conn *c, struct evbuffer *in, uint32_t size) {
    fe_frame *f = malloc(sizeof *f + size);
    if (!f)
        return -ENOMEM;
    f->refs = 1;
    f->len = size;
    evbuffer_drain(in, 4);
    if (evbuffer_remove(in, f->data, size) != (int)size) {
        free(f);
        return -EIO;
    }
    fe_req *r = calloc(1, sizeof *r);
    if (!r) {
        free(f);
        return -ENOMEM;
    }
    r->conn = c;
    r->worker = c->worker;
    r->frame = f;
    r->started_ns = fe_now_ns();
    arena_init(&r->arena);
    c->refs++;
    c->inflight++;
    TAILQ_INSERT_TAIL(&c->pending, r, link);
    fe_stats_bytes_in(c->worker->stats, size + 4);
    fe_dispatch(r);
    return 0;
}

static void conn_readcb(struct bufferevent *bev, void *arg) {
    fe_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    c->last_active_ns = fe_now_ns();
    /* Several frames per wakeup, but bounded by max_inflight via
     * update_reading, so one client cannot monopolise the loop. */
    size_t budget = FE_MAX_SINGLE_READ;
    c->refs++;
    while (!c->closed && !c->closing && c->reading) {
        uint8_t hdr[4];
        if (evbuffer_copyout(in, hdr, 4) < 4)
            break;
        uint32_t size = be_get32(hdr);
        size_t cap = c->authenticated ? c->worker->conf->max_request_bytes
                                      : c->worker->conf->max_request_bytes_unauth;
        if (size > cap || size < 8) {
            /* negative (as int32), tiny, or over the limit: Kafka closes too */
            LOG_INFO("conn", "%s: closing: request size %u outside 8..%zu%s", c->peer, size, cap,
                     c->authenticated ? "" : " (not authenticated)");
            fe_stats_glitch(c->worker->stats);
            conn_close(c);
            break;
        }
        size_t have = evbuffer_get_length(in);
        if (have < 4 + (size_t)size && !c->listener->tls && budget > 0 &&
            4 + (size_t)size - have >= NET_READ_FILL_MIN) {
            /* read the rest past libevent's 4 KiB; errors and end of stream
             * stay in the socket for libevent's next read to report */
            size_t missing = 4 + (size_t)size - have;
            int got = net_read_fill(in, bufferevent_getfd(bev), missing < budget ? missing : budget);
            if (got > 0) {
                budget -= (size_t)got;
                have += (size_t)got;
            }
        }
        if (have < 4 + (size_t)size)
            break;
        int r = take_frame(c, in, size);
        if (r < 0) {
            LOG_ERROR("conn", "%s: closing: cannot take a frame of %u bytes: %s", c->peer, size,
                      strerror(-r));
            conn_close(c);
            break;
        }
        update_reading(c);
    }
    conn_unref(c);
}

static void conn_writecb(struct bufferevent *bev, void *arg) {
    fe_conn *c = arg;
    c->last_active_ns = fe_now_ns(); /* the output just drained */
    (void)bev;
    if (c->closing && TAILQ_EMPTY(&c->pending) && conn_unsent(c) == 0) {
        conn_close(c);
        return;
    }
    update_reading(c);
}

static void conn_eventcb(struct bufferevent *bev, short what, void *arg) {
    fe_conn *c = arg;
    (void)bev;
    if ((what & BEV_EVENT_CONNECTED) && c->listener->tls) {
        int r = fe_tls_opened(c->bev);
        if (r < 0)
            LOG_INFO("conn", "%s: TLS socket callbacks left as they were: %s", c->peer,
                     strerror(-r));
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (what & BEV_EVENT_ERROR)
            fe_tls_log_error(c->bev, c->peer);
        conn_close(c);
    }
}

static bool conn_busy(fe_conn *c) {
    return !TAILQ_EMPTY(&c->pending) || conn_unsent(c) > 0;
}

/* Arm the timer for the nearest deadline that still applies, if any. */
static void conn_timer_arm(fe_conn *c, uint64_t now) {
    const fe_config *conf = c->worker->conf;
    uint64_t next = UINT64_MAX;
    if (c->listener->sasl && !c->authenticated)
        next = c->accepted_ns + (uint64_t)conf->auth_timeout_ms * 1000000u;
    if (conf->idle_timeout_ms > 0) {
        /* busy: look again one timeout later (by then the stamp has moved) */
        uint64_t t = (conn_busy(c) ? now : c->last_active_ns) +
                     (uint64_t)conf->idle_timeout_ms * 1000000u;
        if (t < next)
            next = t;
    }
    if (next == UINT64_MAX)
        return;
    uint64_t d = next > now ? next - now : 0;
    struct timeval tv = {(time_t)(d / 1000000000u), (suseconds_t)(d % 1000000000u / 1000u)};
    evtimer_add(c->timer, &tv);
}

static void conn_timercb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    fe_conn *c = arg;
    const fe_config *conf = c->worker->conf;
    uint64_t now = fe_now_ns();
    if (c->listener->sasl && !c->authenticated &&
        now - c->accepted_ns >= (uint64_t)conf->auth_timeout_ms * 1000000u) {
        LOG_INFO("conn", "%s: closing: not authenticated within auth_timeout_ms (%d)", c->peer,
                 conf->auth_timeout_ms);
        fe_stats_auth_failure(c->worker->stats);
        conn_close(c);
        return;
    }
    if (conf->idle_timeout_ms > 0 && !conn_busy(c) &&
        now - c->last_active_ns >= (uint64_t)conf->idle_timeout_ms * 1000000u) {
        LOG_DEBUG("conn", "%s: closing: idle for idle_timeout_ms (%d)", c->peer,
                  conf->idle_timeout_ms);
        conn_close(c);
        return;
    }
    conn_timer_arm(c, now);
}

void fe_conn_accept(fe_worker *w, int fd, const fe_listener_conf *l, const char *peer,
                    const fe_ipkey *ip) {
    fe_conn *c = calloc(1, sizeof *c);
    if (!c) {
        LOG_ERROR("conn", "%s: out of memory accepting a connection", peer);
        fe_conn_limits_release(w->limits, ip);
        evutil_closesocket(fd);
        return;
    }
    c->ip = *ip;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->refs = 1;
    c->worker = w;
    c->listener = l;
    c->id = ++w->next_conn_id;
    TAILQ_INIT(&c->pending);
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->authenticated = !l->sasl;
    c->rights = l->sasl ? 0 : (FE_RIGHT_SEND | FE_RIGHT_LISTEN | FE_RIGHT_MANAGE);
    snprintf(c->principal, sizeof c->principal, "%s", l->sasl ? "" : "ANONYMOUS");
    if (l->tls)
        c->bev = fe_tls_bufferevent(w, fd);
    else
        c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (l->sasl || w->conf->idle_timeout_ms > 0)
        c->timer = evtimer_new(w->base, conn_timercb, c);
    if (!c->bev || ((l->sasl || w->conf->idle_timeout_ms > 0) && !c->timer)) {
        LOG_ERROR("conn", "%s: cannot set up the connection", peer);
        if (c->bev)
            bufferevent_free(c->bev); /* closes fd */
        else
            evutil_closesocket(fd);
        if (c->timer)
            event_free(c->timer);
        fe_conn_limits_release(w->limits, ip);
        free(c);
        return;
    }
    /* fetch responses are megabytes: write them in large writev()s, not
     * libevent's default of 16 KiB per call */
    bufferevent_set_max_single_write(c->bev, FE_MAX_SINGLE_WRITE);
    LIST_INSERT_HEAD(&w->conns, c, link);
    fe_stats_conn_opened(w->stats, l);
    bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->reading = true;
    c->accepted_ns = c->last_active_ns = fe_now_ns();
    if (c->timer)
        conn_timer_arm(c, c->accepted_ns);
}

void fe_conn_close_all(fe_worker *w) {
    fe_conn *c;
    while ((c = LIST_FIRST(&w->conns)))
        conn_close(c);
}
