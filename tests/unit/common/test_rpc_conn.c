/* Unit tests of the RPC client and server together, on one event_base over
 * loopback: round trips with tails, many concurrent calls answered out of
 * order, timeouts, connect failures and reconnect, server loss, cancel,
 * host names, re-entrant callbacks, malformed input, back-pressure, held
 * replies and their acknowledgements. Every
 * wait is an event loop run with a deadline; nothing sleeps. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "netaddr.h"
#include "rpc.h"
#include "rpc_local.h"
#include "unit.h"

static struct event_base *base;

/* ---- waiting with a deadline ---------------------------------------------- */

static void deadline_cb(evutil_socket_t fd, short what, void *arg) { *(int *)arg = 1; }

/* Run the loop until @p expr holds or @p ms pass; evaluates to expr. */
#define WAIT_FOR(expr, ms)                                                       \
    do {                                                                         \
        int _expired = 0;                                                        \
        struct timeval _tv = {(ms) / 1000, ((ms) % 1000) * 1000};               \
        struct event *_dl = evtimer_new(base, deadline_cb, &_expired);           \
        evtimer_add(_dl, &_tv);                                                  \
        while (!(expr) && !_expired)                                             \
            event_base_loop(base, EVLOOP_ONCE);                                  \
        event_free(_dl);                                                         \
    } while (0)

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the test server's handler --------------------------------------------- *
 * GET_MAP: reply now, body ClusterMap{version = known_version + 1}, tail = the
 *          request tail followed by one byte 0x5a.
 * FETCH:   like GET_MAP, but calls with known_version % 3 == 0 are answered
 *          from a timer (1..5 ms), so replies overtake each other.
 * LIST_OFFSETS: never answered by the handler; parked for the test.
 * PRODUCE: reply with a tail of known_version bytes (back-pressure test).
 * DESCRIBE_PRODUCERS: a held reply when the call allows it (counting
 *          releases in `released`), else a plain one (counted in `unheld`). */

#define MAX_PARKED 16
static rpc_call *parked[MAX_PARKED];
static int nparked;
static int handled;
static uint64_t last_known; /* known_version of the last request handled */
static int released, unheld;
static int released_in_handler; /* releases seen right after replying */

static void count_release(void *arg) { (*(int *)arg)++; }

static void reply_echo(rpc_call *call) {
    rpc_frame *f = rpc_call_frame(call);
    Eddy__GetMapRequest *req =
        (Eddy__GetMapRequest *)rpc_frame_unpack_body(f, &eddy__get_map_request__descriptor);
    Eddy__ClusterMap map = EDDY__CLUSTER_MAP__INIT;
    map.version = req ? req->known_version + 1 : 0;
    if (req)
        protobuf_c_message_free_unpacked(&req->base, NULL);
    struct evbuffer *tail = evbuffer_new();
    evbuffer_add(tail, f->tail, f->tail_len);
    evbuffer_add(tail, "\x5a", 1);
    CHECK_EQ_INT(rpc_call_reply(call, EDDY__STATUS__OK, &map.base, tail), 0);
    evbuffer_free(tail);
}

static void deferred_reply_cb(evutil_socket_t fd, short what, void *arg) { reply_echo(arg); }

static uint64_t known_of(rpc_call *call) {
    Eddy__GetMapRequest *req = (Eddy__GetMapRequest *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__get_map_request__descriptor);
    uint64_t k = req ? req->known_version : 0;
    if (req)
        protobuf_c_message_free_unpacked(&req->base, NULL);
    return k;
}

static void handler(rpc_call *call, void *arg) {
    handled++;
    uint64_t k = known_of(call);
    last_known = k;
    switch (rpc_call_frame(call)->hdr->method) {
    case EDDY__METHOD__FETCH:
        if (k % 3 == 0) {
            struct timeval tv = {0, (long)(1 + k % 5) * 1000};
            event_base_once(base, -1, EV_TIMEOUT, deferred_reply_cb, call, &tv);
            return;
        }
        reply_echo(call);
        return;
    case EDDY__METHOD__LIST_OFFSETS:
        if (nparked < MAX_PARKED) {
            parked[nparked++] = call;
            return;
        }
        rpc_call_reply(call, EDDY__STATUS__UNAVAILABLE, NULL, NULL);
        return;
    case EDDY__METHOD__DESCRIBE_PRODUCERS: {
        struct evbuffer *tail = evbuffer_new();
        evbuffer_add(tail, "held", 4);
        if (rpc_call_can_hold(call)) {
            int before = released;
            CHECK_EQ_INT(rpc_call_reply_held(call, EDDY__STATUS__OK, NULL, tail, count_release,
                                             &released),
                         0);
            /* nothing can have acknowledged a reply not yet written */
            released_in_handler += released - before;
        } else {
            unheld++;
            rpc_call_reply(call, EDDY__STATUS__OK, NULL, tail);
        }
        evbuffer_free(tail);
        return;
    }
    case EDDY__METHOD__PRODUCE: {
        struct evbuffer *tail = evbuffer_new();
        char *block = calloc(1, (size_t)k);
        evbuffer_add(tail, block, (size_t)k);
        free(block);
        rpc_call_reply(call, EDDY__STATUS__OK, NULL, tail);
        evbuffer_free(tail);
        return;
    }
    default:
        reply_echo(call);
    }
}

/* Answer the parked calls (after their connection is gone: dropped). */
static void release_parked(int expect) {
    for (int i = 0; i < nparked; i++)
        CHECK_EQ_INT(rpc_call_reply(parked[i], EDDY__STATUS__OK, NULL, NULL), expect);
    nparked = 0;
}

/* ---- the test client's callbacks ------------------------------------------- */

typedef struct result {
    int done;
    int err;
    uint64_t version;      /* from the ClusterMap body */
    size_t tail_len;
    int tail_ok;           /* tail == the pattern we sent + 0x5a */
    size_t pattern_len;
    long long at_ms;
    int order;             /* completion rank */
    unsigned flags;        /* RPC_CALL_* the call was made with */
} result;

static int completions;

static void on_reply(int err, rpc_frame *reply, void *arg) {
    result *res = arg;
    res->done++;
    res->err = err;
    res->at_ms = now_ms();
    res->order = completions++;
    if (err || !reply)
        return;
    CHECK(reply->hdr->response);
    Eddy__ClusterMap *m =
        (Eddy__ClusterMap *)rpc_frame_unpack_body(reply, &eddy__cluster_map__descriptor);
    if (m) {
        res->version = m->version;
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    res->tail_len = reply->tail_len;
    const uint8_t *t = reply->tail;
    struct evbuffer *moved = NULL;
    if (res->flags & RPC_CALL_SPLIT_TAIL) {
        /* split: nothing contiguous; the bytes move out in order */
        CHECK(reply->tail == NULL && reply->tail_buf != NULL);
        moved = evbuffer_new();
        CHECK_EQ_INT(rpc_frame_tail_move(reply, reply->tail_len, moved), 0);
        CHECK_EQ_INT(evbuffer_get_length(moved), reply->tail_len);
        t = evbuffer_pullup(moved, -1);
    }
    res->tail_ok = t && reply->tail_len == res->pattern_len + 1 && t[res->pattern_len] == 0x5a;
    for (size_t i = 0; res->tail_ok && i < res->pattern_len; i++)
        if (t[i] != (uint8_t)(i % 251))
            res->tail_ok = 0;
    if (moved)
        evbuffer_free(moved);
}

static uint64_t call(rpc_client *c, Eddy__Method m, uint64_t known, size_t pattern_len,
                     int timeout_ms, result *res) {
    Eddy__GetMapRequest req = EDDY__GET_MAP_REQUEST__INIT;
    req.known_version = known;
    res->pattern_len = pattern_len;
    struct evbuffer *tail = NULL;
    if (pattern_len) {
        tail = evbuffer_new();
        uint8_t *p = malloc(pattern_len);
        for (size_t i = 0; i < pattern_len; i++)
            p[i] = (uint8_t)(i % 251);
        evbuffer_add(tail, p, pattern_len);
        free(p);
    }
    uint64_t id =
        rpc_client_call_ex(c, m, 1, &req.base, tail, timeout_ms, res->flags, on_reply, res);
    if (tail) {
        CHECK_EQ_INT(evbuffer_get_length(tail), 0); /* moved */
        evbuffer_free(tail);
    }
    return id;
}

static rpc_server *start_server(const char *addr, char *client_addr, size_t cap) {
    rpc_server *s = rpc_server_new(base, addr, 0, handler, NULL);
    CHECK(s != NULL);
    if (s && client_addr)
        snprintf(client_addr, cap, "127.0.0.1:%d", rpc_server_port(s));
    return s;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_netaddr(void) {
    netaddr a;
    CHECK_EQ_INT(netaddr_parse("broker-1:9000", &a), 0);
    CHECK(strcmp(a.host, "broker-1") == 0);
    CHECK_EQ_INT(a.port, 9000);
    CHECK_EQ_INT(netaddr_parse("[::1]:65535", &a), 0);
    CHECK(strcmp(a.host, "::1") == 0);
    CHECK_EQ_INT(a.port, 65535);
    CHECK_EQ_INT(netaddr_parse(":9092", &a), 0);
    CHECK(a.host[0] == '\0');
    CHECK_EQ_INT(netaddr_parse("1.2.3.4:0", &a), 0);
    CHECK_EQ_INT(netaddr_parse("::1:9000", &a), -EINVAL);
    CHECK_EQ_INT(netaddr_parse("host", &a), -EINVAL);
    CHECK_EQ_INT(netaddr_parse("host:", &a), -EINVAL);
    CHECK_EQ_INT(netaddr_parse("host:65536", &a), -EINVAL);
    CHECK_EQ_INT(netaddr_parse("host:+80", &a), -EINVAL);
    CHECK_EQ_INT(netaddr_parse("host:123456", &a), -EINVAL);
    CHECK_EQ_INT(netaddr_parse("[::1]9000", &a), -EINVAL);
    CHECK_EQ_INT(netaddr_parse("[]:9000", &a), -EINVAL);
    CHECK_EQ_INT(netaddr_parse("ho st:1", &a), -EINVAL);
    CHECK_EQ_INT(netaddr_parse(NULL, &a), -EINVAL);
    char longhost[400];
    memset(longhost, 'a', sizeof longhost);
    memcpy(longhost + 300, ":1", 3);
    CHECK_EQ_INT(netaddr_parse(longhost, &a), -EINVAL);

    struct sockaddr_storage ss;
    socklen_t len;
    char out[64];
    CHECK_EQ_INT(netaddr_parse("127.0.0.1:80", &a), 0);
    CHECK_EQ_INT(netaddr_to_sockaddr(&a, &ss, &len), 0);
    CHECK_EQ_INT(netaddr_format((struct sockaddr *)&ss, out, sizeof out), 0);
    CHECK(strcmp(out, "127.0.0.1:80") == 0);
    CHECK_EQ_INT(netaddr_parse("[::1]:81", &a), 0);
    CHECK_EQ_INT(netaddr_to_sockaddr(&a, &ss, &len), 0);
    CHECK_EQ_INT(netaddr_format((struct sockaddr *)&ss, out, sizeof out), 0);
    CHECK(strcmp(out, "[::1]:81") == 0);
    CHECK_EQ_INT(netaddr_format((struct sockaddr *)&ss, out, 5), -ENOSPC);
    CHECK_EQ_INT(netaddr_parse("localhost:82", &a), 0);
    CHECK_EQ_INT(netaddr_to_sockaddr(&a, &ss, &len), -ENOENT);
    CHECK_EQ_INT(netaddr_resolve(&a, false, &ss, &len), 0);

    CHECK(rpc_client_new(base, "no-port", NULL) == NULL);
    CHECK(rpc_client_new(base, ":9000", NULL) == NULL);
    errno = 0;
    CHECK(rpc_server_new(base, "bad address", 0, handler, NULL) == NULL);
    CHECK_EQ_INT(errno, EINVAL);
}

static void test_roundtrip_big_tail(void) {
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    rpc_client *c = rpc_client_new(base, addr, NULL);
    CHECK(c != NULL);
    CHECK(!rpc_client_connected(c));
    CHECK(strcmp(rpc_client_address(c), addr) == 0);
    result r = {0};
    uint64_t id = call(c, EDDY__METHOD__GET_MAP, 41, (size_t)1 << 20, 5000, &r);
    CHECK(id > 0);
    CHECK_EQ_INT(r.done, 0); /* never called back before the id is known */
    WAIT_FOR(r.done, 5000);
    CHECK_EQ_INT(r.done, 1);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(r.version, 42);
    CHECK_EQ_INT(r.tail_len, ((size_t)1 << 20) + 1);
    CHECK(r.tail_ok);
    CHECK(rpc_client_connected(c));
    /* a second call on the established connection */
    result r2 = {0};
    CHECK(call(c, EDDY__METHOD__GET_MAP, 7, 10, 5000, &r2) > id);
    WAIT_FOR(r2.done, 5000);
    CHECK_EQ_INT(r2.err, 0);
    CHECK_EQ_INT(r2.version, 8);
    CHECK(r2.tail_ok);
    /* the same with the reply's tail left split (fetch replies) */
    result r3 = {.flags = RPC_CALL_SPLIT_TAIL};
    CHECK(call(c, EDDY__METHOD__GET_MAP, 9, (size_t)3 << 20, 5000, &r3) > id);
    WAIT_FOR(r3.done, 5000);
    CHECK_EQ_INT(r3.err, 0);
    CHECK_EQ_INT(r3.version, 10);
    CHECK_EQ_INT(r3.tail_len, ((size_t)3 << 20) + 1);
    CHECK(r3.tail_ok);
    rpc_client_free(c);
    rpc_server_free(s);
    CHECK_EQ_INT(r.done, 1); /* nothing ran twice */
}

#define NCONC 1000
static void test_concurrent_out_of_order(void) {
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    rpc_client *c = rpc_client_new(base, addr, NULL);
    static result rs[NCONC];
    memset(rs, 0, sizeof rs);
    completions = 0;
    for (int i = 0; i < NCONC; i++)
        CHECK(call(c, EDDY__METHOD__FETCH, (uint64_t)i, (size_t)(i % 3), 10000, &rs[i]) > 0);
    WAIT_FOR(completions == NCONC, 10000);
    CHECK_EQ_INT(completions, NCONC);
    int bad = 0, overtaken = 0;
    for (int i = 0; i < NCONC; i++) {
        if (rs[i].done != 1 || rs[i].err != 0 || rs[i].version != (uint64_t)i + 1 || !rs[i].tail_ok)
            bad++;
        if (rs[i].order != i)
            overtaken++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(overtaken > 0); /* the deferred third came back out of order */
    rpc_client_free(c);
    rpc_server_free(s);
}

static void test_timeout(void) {
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    rpc_client *c = rpc_client_new(base, addr, NULL);
    result r = {0}, late = {0};
    long long t0 = now_ms();
    call(c, EDDY__METHOD__LIST_OFFSETS, 1, 0, 150, &r);
    WAIT_FOR(r.done, 5000);
    CHECK_EQ_INT(r.done, 1);
    CHECK_EQ_INT(r.err, -ETIMEDOUT);
    CHECK(r.at_ms - t0 >= 140);
    CHECK(r.at_ms - t0 < 2000);
    CHECK_EQ_INT(nparked, 1);
    /* the late answer arrives for an id nobody waits for: dropped, and the
     * connection keeps working */
    release_parked(0);
    call(c, EDDY__METHOD__GET_MAP, 5, 0, 5000, &late);
    WAIT_FOR(late.done, 5000);
    CHECK_EQ_INT(late.err, 0);
    CHECK_EQ_INT(late.version, 6);
    CHECK_EQ_INT(r.done, 1);
    rpc_client_free(c);
    rpc_server_free(s);
}

/* A port nobody listens on (bound once, then released). */
static int free_port(void) {
    rpc_server *s = rpc_server_new(base, "127.0.0.1:0", 0, handler, NULL);
    int port = s ? rpc_server_port(s) : 0;
    rpc_server_free(s);
    return port;
}

static void test_refused_then_reconnect(void) {
    int port = free_port();
    CHECK(port > 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    rpc_client_opts o = {.backoff_max_ms = 200, .connect_timeout_ms = 1000};
    rpc_client *c = rpc_client_new(base, addr, &o);
    result r[3] = {{0}};
    long long t0 = now_ms();
    for (int i = 0; i < 3; i++)
        call(c, EDDY__METHOD__GET_MAP, 1, 0, 3000, &r[i]);
    WAIT_FOR(r[0].done && r[1].done && r[2].done, 5000);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(r[i].done, 1);
        CHECK_EQ_INT(r[i].err, -ECONNREFUSED);
        CHECK(r[i].at_ms - t0 < 1000); /* well within their timeout */
    }
    /* during backoff: still refused, promptly */
    result again = {0};
    call(c, EDDY__METHOD__GET_MAP, 1, 0, 3000, &again);
    WAIT_FOR(again.done, 5000);
    CHECK_EQ_INT(again.err, -ECONNREFUSED);
    CHECK(!rpc_client_connected(c));

    char bind_addr[64];
    snprintf(bind_addr, sizeof bind_addr, "127.0.0.1:%d", port);
    rpc_server *s = start_server(bind_addr, NULL, 0);
    result ok = {0};
    call(c, EDDY__METHOD__GET_MAP, 9, 100, 3000, &ok);
    WAIT_FOR(ok.done, 5000);
    CHECK_EQ_INT(ok.err, 0);
    CHECK_EQ_INT(ok.version, 10);
    CHECK(ok.tail_ok);
    CHECK(rpc_client_connected(c));
    rpc_client_free(c);
    rpc_server_free(s);
}

static void test_server_freed_mid_call(void) {
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    rpc_client *c = rpc_client_new(base, addr, NULL);
    result r = {0};
    call(c, EDDY__METHOD__LIST_OFFSETS, 1, 0, 5000, &r);
    WAIT_FOR(nparked == 1, 5000);
    CHECK_EQ_INT(nparked, 1);
    if (nparked == 1) {
        CHECK(rpc_call_peer_alive(parked[0]));
        CHECK(rpc_call_conn_id(parked[0]) > 0);
    }
    rpc_server_free(s);
    WAIT_FOR(r.done, 5000);
    CHECK_EQ_INT(r.done, 1);
    CHECK_EQ_INT(r.err, -ECONNRESET);
    CHECK(!rpc_client_connected(c));
    if (nparked == 1)
        CHECK(!rpc_call_peer_alive(parked[0]));
    /* answering after the connection is gone is dropped, safely */
    release_parked(-ENOTCONN);
    rpc_client_free(c);
}

static void test_cancel(void) {
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    rpc_client *c = rpc_client_new(base, addr, NULL);
    /* cancelled while not yet connected: its frame must never be sent */
    result gone = {0}, kept = {0};
    handled = 0;
    uint64_t id = call(c, EDDY__METHOD__GET_MAP, 1000, 0, 5000, &gone);
    rpc_client_cancel(c, id);
    rpc_client_cancel(c, id);      /* twice: ignored */
    rpc_client_cancel(c, 987654);  /* unknown: ignored */
    call(c, EDDY__METHOD__GET_MAP, 2000, 0, 5000, &kept);
    WAIT_FOR(kept.done, 5000);
    CHECK_EQ_INT(kept.err, 0);
    CHECK_EQ_INT(handled, 1);
    CHECK_EQ_INT(last_known, 2000);
    /* cancelled while in flight: the reply (deferred 1 ms) is dropped */
    result inflight = {0}, after = {0};
    id = call(c, EDDY__METHOD__FETCH, 3, 0, 5000, &inflight);
    rpc_client_cancel(c, id);
    call(c, EDDY__METHOD__FETCH, 30, 0, 5000, &after); /* deferred 1 ms too, later */
    WAIT_FOR(after.done, 5000);
    CHECK_EQ_INT(after.err, 0);
    /* and its timer was removed: nothing fires at the old deadline either */
    result marker = {0};
    call(c, EDDY__METHOD__LIST_OFFSETS, 1, 0, 300, &marker);
    WAIT_FOR(marker.done, 5000);
    CHECK_EQ_INT(gone.done, 0);
    CHECK_EQ_INT(inflight.done, 0);
    release_parked(0);
    rpc_client_free(c);
    rpc_server_free(s);
    CHECK_EQ_INT(gone.done, 0);
    CHECK_EQ_INT(inflight.done, 0);
}

static void test_hostname(void) {
    rpc_server *s = start_server("127.0.0.1:0", NULL, 0);
    char addr[64];
    snprintf(addr, sizeof addr, "localhost:%d", rpc_server_port(s));
    rpc_client *c = rpc_client_new(base, addr, NULL);
    result r = {0};
    call(c, EDDY__METHOD__GET_MAP, 20, 5, 5000, &r);
    WAIT_FOR(r.done, 5000);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(r.version, 21);
    CHECK(r.tail_ok);
    /* a name that does not resolve fails the call as "could not connect" */
    rpc_client_opts o = {.connect_timeout_ms = 3000};
    rpc_client *bad = rpc_client_new(base, "no-such-host.invalid:9", &o);
    result rb = {0};
    call(bad, EDDY__METHOD__GET_MAP, 1, 0, 4000, &rb);
    WAIT_FOR(rb.done, 6000);
    CHECK_EQ_INT(rb.done, 1);
    CHECK_EQ_INT(rb.err, -ECONNREFUSED);
    rpc_client_free(bad);
    /* a deadline shorter than the lookup: the lookup is cancelled, and its
     * late EVUTIL_EAI_CANCEL callback must find nothing freed (ASan) */
    rpc_client_opts quick = {.connect_timeout_ms = 1};
    bad = rpc_client_new(base, "no-such-host-2.invalid:9", &quick);
    result rq = {0};
    call(bad, EDDY__METHOD__GET_MAP, 1, 0, 4000, &rq);
    WAIT_FOR(rq.done, 6000);
    CHECK_EQ_INT(rq.err, -ECONNREFUSED);
    rpc_client_free(bad);
    /* freed while (most likely) a lookup is outstanding */
    bad = rpc_client_new(base, "no-such-host-3.invalid:9", NULL);
    result rf = {0};
    call(bad, EDDY__METHOD__GET_MAP, 1, 0, 4000, &rf);
    event_base_loop(base, EVLOOP_NONBLOCK); /* runs the 0 ms kick: lookup sent */
    rpc_client_free(bad);
    CHECK_EQ_INT(rf.done, 1);
    CHECK(rf.err == -ECANCELED || rf.err == -ECONNREFUSED);
    rpc_client_free(c);
    rpc_server_free(s);
    /* let deferred evdns clean-up run before the base goes away */
    WAIT_FOR(0, 50);
}

/* ---- re-entrancy ------------------------------------------------------------ */

typedef struct reent {
    rpc_client *c;
    int calls_back;
    int freed_in_cb;
    result chained;
    uint64_t chained_id;
} reent;

static reent R;

static void free_in_callback(int err, rpc_frame *reply, void *arg) {
    R.calls_back++;
    if (!R.freed_in_cb) {
        R.freed_in_cb = 1;
        rpc_client_free(R.c);
        /* calls on a client being freed are refused, not queued */
        Eddy__GetMapRequest req = EDDY__GET_MAP_REQUEST__INIT;
        CHECK_EQ_INT(rpc_client_call(R.c, EDDY__METHOD__GET_MAP, 0, &req.base, NULL, 100, on_reply,
                                     &R.chained),
                     0);
    }
}

static void chain_in_callback(int err, rpc_frame *reply, void *arg) {
    R.calls_back++;
    CHECK_EQ_INT(err, 0);
    R.chained_id = call(R.c, EDDY__METHOD__GET_MAP, 50, 0, 5000, &R.chained);
}

static void test_reentrant(void) {
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    memset(&R, 0, sizeof R);
    R.c = rpc_client_new(base, addr, NULL);
    Eddy__GetMapRequest req = EDDY__GET_MAP_REQUEST__INIT;
    /* a callback that makes another call */
    rpc_client_call(R.c, EDDY__METHOD__GET_MAP, 0, &req.base, NULL, 5000, chain_in_callback, NULL);
    WAIT_FOR(R.chained.done, 5000);
    CHECK(R.chained_id > 0);
    CHECK_EQ_INT(R.chained.err, 0);
    CHECK_EQ_INT(R.chained.version, 51);
    /* a callback that frees the client while more replies are in the same
     * read: the others complete with -ECANCELED, once */
    memset(&R.chained, 0, sizeof R.chained);
    R.calls_back = 0;
    result rest[5] = {{0}};
    rpc_client_call(R.c, EDDY__METHOD__GET_MAP, 0, &req.base, NULL, 5000, free_in_callback, NULL);
    for (int i = 0; i < 5; i++)
        call(R.c, EDDY__METHOD__LIST_OFFSETS, 1, 0, 5000, &rest[i]);
    WAIT_FOR(R.freed_in_cb, 5000);
    CHECK_EQ_INT(R.calls_back, 1);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(rest[i].done, 1);
        CHECK_EQ_INT(rest[i].err, -ECANCELED);
    }
    CHECK_EQ_INT(R.chained.done, 0);
    /* freeing with calls still queued (never connected) cancels them */
    rpc_client *c2 = rpc_client_new(base, addr, NULL);
    result q = {0};
    call(c2, EDDY__METHOD__GET_MAP, 1, 0, 5000, &q);
    rpc_client_free(c2);
    CHECK_EQ_INT(q.done, 1);
    CHECK_EQ_INT(q.err, -ECANCELED);
    rpc_client_free(NULL);
    /* the server sees the client's close: its parked calls are orphaned */
    WAIT_FOR(nparked == 5 && !rpc_call_peer_alive(parked[4]), 5000);
    CHECK_EQ_INT(nparked, 5);
    release_parked(-ENOTCONN);
    rpc_server_free(s);
    rpc_server_free(NULL);
}

/* ---- raw sockets against the server ----------------------------------------- */

static int raw_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ_INT(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    return fd;
}

typedef struct raw_reader {
    int fd;
    struct evbuffer *in;
    int eof;
    int frames;
    size_t bytes;
    int held;          /* frames marked held */
    uint64_t last_id;  /* id of the last frame */
} raw_reader;

static void raw_read_cb(evutil_socket_t fd, short what, void *arg) {
    raw_reader *rr = arg;
    for (;;) {
        int n = evbuffer_read(rr->in, fd, 1 << 16);
        if (n == 0)
            rr->eof = 1;
        if (n <= 0)
            break;
        rr->bytes += (size_t)n;
    }
    rpc_frame *f;
    while (rpc_frame_take(rr->in, 0, &f) == 1) {
        rr->frames++;
        rr->held += f->hdr->held;
        rr->last_id = f->hdr->id;
        rpc_frame_unref(f);
    }
}

/* Send a header-only frame @p method with @p id from a raw peer. */
static void raw_send(int fd, Eddy__Method method, uint64_t id, bool acks_held) {
    struct evbuffer *b = evbuffer_new();
    Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
    hdr.id = id;
    hdr.method = method;
    hdr.acks_held = acks_held;
    CHECK_EQ_INT(rpc_frame_write(b, &hdr, NULL, NULL), 0);
    int n = (int)evbuffer_get_length(b);
    CHECK_EQ_INT(evbuffer_write(b, fd), n);
    evbuffer_free(b);
}

static void test_held_replies(void) {
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    rpc_server_set_hold_grace(s, 200);
    released = unheld = released_in_handler = 0;
    handled = 0;
    /* our client says it acknowledges held replies, and does */
    rpc_client *c = rpc_client_new(base, addr, NULL);
    result r = {0};
    call(c, EDDY__METHOD__DESCRIBE_PRODUCERS, 0, 0, 5000, &r);
    WAIT_FOR(r.done && released == 1, 5000);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(r.tail_len, 4);
    CHECK_EQ_INT(unheld, 0);
    CHECK_EQ_INT(released, 1);
    CHECK_EQ_INT(released_in_handler, 0);
    rpc_client_free(c);

    /* a peer that does not say so never gets a held reply */
    int fd = raw_connect(rpc_server_port(s));
    evutil_make_socket_nonblocking(fd);
    raw_reader rr = {.fd = fd, .in = evbuffer_new()};
    struct event *ev = event_new(base, fd, EV_READ | EV_PERSIST, raw_read_cb, &rr);
    event_add(ev, NULL);
    raw_send(fd, EDDY__METHOD__DESCRIBE_PRODUCERS, 1, false);
    WAIT_FOR(rr.frames == 1, 5000);
    CHECK_EQ_INT(unheld, 1);
    CHECK_EQ_INT(rr.held, 0);

    /* one that does: the storage stays held until the right ack */
    raw_send(fd, EDDY__METHOD__DESCRIBE_PRODUCERS, 2, true);
    WAIT_FOR(rr.frames == 2, 5000);
    CHECK_EQ_INT(rr.held, 1);
    CHECK_EQ_INT(rr.last_id, 2);
    WAIT_FOR(0, 50);
    CHECK_EQ_INT(released, 1);
    raw_send(fd, EDDY__METHOD__REPLY_ACK, 7, false); /* not held: ignored */
    WAIT_FOR(0, 50);
    CHECK_EQ_INT(released, 1);
    raw_send(fd, EDDY__METHOD__REPLY_ACK, 2, false);
    WAIT_FOR(released == 2, 5000);
    CHECK_EQ_INT(released, 2);
    /* acks are not requests: the handler never saw them */
    CHECK_EQ_INT(handled, 3);
    raw_send(fd, EDDY__METHOD__REPLY_ACK, 2, false); /* twice: nothing more */
    WAIT_FOR(0, 50);
    CHECK_EQ_INT(released, 2);

    /* unacknowledged when the connection closes: released after the grace
     * period, since the peer's socket may still hold the bytes */
    raw_send(fd, EDDY__METHOD__DESCRIBE_PRODUCERS, 3, true);
    raw_send(fd, EDDY__METHOD__DESCRIBE_PRODUCERS, 4, true);
    WAIT_FOR(rr.frames == 4, 5000);
    event_free(ev);
    close(fd);
    evbuffer_free(rr.in);
    long long t0 = now_ms();
    WAIT_FOR(0, 100);
    CHECK_EQ_INT(released, 2);
    WAIT_FOR(released == 4, 5000);
    CHECK_EQ_INT(released, 4);
    CHECK(now_ms() - t0 >= 190);

    /* at rpc_server_free, at once */
    fd = raw_connect(rpc_server_port(s));
    rr = (raw_reader){.fd = fd, .in = evbuffer_new()};
    evutil_make_socket_nonblocking(fd);
    ev = event_new(base, fd, EV_READ | EV_PERSIST, raw_read_cb, &rr);
    event_add(ev, NULL);
    raw_send(fd, EDDY__METHOD__DESCRIBE_PRODUCERS, 5, true);
    WAIT_FOR(rr.frames == 1, 5000);
    CHECK_EQ_INT(rr.held, 1);
    CHECK_EQ_INT(released, 4);
    rpc_server_free(s);
    CHECK_EQ_INT(released, 5);
    event_free(ev);
    close(fd);
    evbuffer_free(rr.in);
}

static void test_malformed_closes_one_connection(void) {
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    rpc_client *c = rpc_client_new(base, addr, NULL);
    result r1 = {0}, r2 = {0};
    call(c, EDDY__METHOD__GET_MAP, 1, 0, 5000, &r1);
    WAIT_FOR(r1.done, 5000);
    CHECK_EQ_INT(r1.err, 0);
    /* a peer sending garbage (an HTTP request) is closed... */
    int fd = raw_connect(rpc_server_port(s));
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(write(fd, http, strlen(http)) == (ssize_t)strlen(http));
    evutil_make_socket_nonblocking(fd);
    raw_reader rr = {.fd = fd, .in = evbuffer_new()};
    struct event *ev = event_new(base, fd, EV_READ | EV_PERSIST, raw_read_cb, &rr);
    event_add(ev, NULL);
    WAIT_FOR(rr.eof, 5000);
    CHECK(rr.eof);
    CHECK_EQ_INT(rr.bytes, 0);
    event_free(ev);
    close(fd);
    evbuffer_free(rr.in);
    /* ...and the other connection is untouched */
    CHECK(rpc_client_connected(c));
    call(c, EDDY__METHOD__GET_MAP, 2, 0, 5000, &r2);
    WAIT_FOR(r2.done, 5000);
    CHECK_EQ_INT(r2.err, 0);
    CHECK_EQ_INT(r2.version, 3);
    rpc_client_free(c);
    rpc_server_free(s);
}

#define BP_CALLS 100
#define BP_REPLY ((size_t)512 << 10)
static void test_back_pressure(void) {
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    rpc_server_set_output_limit(s, (size_t)1 << 20);
    int fd = raw_connect(rpc_server_port(s));
    /* BP_CALLS requests for 512 KiB each, and do not read the replies */
    struct evbuffer *req = evbuffer_new();
    for (int i = 0; i < BP_CALLS; i++) {
        Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
        hdr.id = (uint64_t)i + 1;
        hdr.method = EDDY__METHOD__PRODUCE;
        Eddy__GetMapRequest body = EDDY__GET_MAP_REQUEST__INIT;
        body.known_version = BP_REPLY;
        CHECK_EQ_INT(rpc_frame_write(req, &hdr, &body.base, NULL), 0);
    }
    int reqlen = (int)evbuffer_get_length(req);
    CHECK_EQ_INT(evbuffer_write(req, fd), reqlen);
    evbuffer_free(req);
    handled = 0;
    /* the server stops reading once replies pile up: let it run a while */
    int last = -1;
    for (int round = 0; round < 20 && handled != last; round++) {
        last = handled;
        WAIT_FOR(0, 100);
    }
    CHECK(handled > 0);
    CHECK(handled < BP_CALLS);
    /* now drain: it resumes and answers everything */
    evutil_make_socket_nonblocking(fd);
    raw_reader rr = {.fd = fd, .in = evbuffer_new()};
    struct event *ev = event_new(base, fd, EV_READ | EV_PERSIST, raw_read_cb, &rr);
    event_add(ev, NULL);
    WAIT_FOR(rr.frames == BP_CALLS || rr.eof, 20000);
    CHECK_EQ_INT(rr.frames, BP_CALLS);
    CHECK_EQ_INT(handled, BP_CALLS);
    event_free(ev);
    close(fd);
    evbuffer_free(rr.in);
    rpc_server_free(s);
}

/* A local listener (rpc_local.h): the client goes there first, falls back to
 * TCP when the name is not reachable, and held replies work over it too. */
static void test_local_socket(void) {
    struct sockaddr_un sun;
    socklen_t len;
    CHECK_EQ_INT(rpc_local_sockaddr("", &sun, &len), -EINVAL);
    CHECK_EQ_INT(rpc_local_sockaddr(NULL, &sun, &len), -EINVAL);
    CHECK_EQ_INT(rpc_local_sockaddr("a b", &sun, &len), -EINVAL);
    CHECK_EQ_INT(rpc_local_sockaddr("x/y", &sun, &len), -EINVAL);
    char longname[RPC_LOCAL_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK_EQ_INT(rpc_local_sockaddr(longname, &sun, &len), -EINVAL);
    longname[RPC_LOCAL_NAME_MAX] = '\0';
    CHECK_EQ_INT(rpc_local_sockaddr(longname, &sun, &len), 0);
    char small[8];
    CHECK_EQ_INT(rpc_local_name_new(small, sizeof small), -ENOSPC);

    char name[RPC_LOCAL_NAME_MAX + 1], other[RPC_LOCAL_NAME_MAX + 1];
    CHECK_EQ_INT(rpc_local_name_new(name, sizeof name), 0);
    CHECK_EQ_INT(rpc_local_name_new(other, sizeof other), 0);
    CHECK(strncmp(name, "eddy-rpc-", 9) == 0 && strlen(name) == 9 + 32);
    CHECK(strcmp(name, other) != 0);
    char addr[64];
    rpc_server *s = start_server("127.0.0.1:0", addr, sizeof addr);
    CHECK_EQ_INT(rpc_server_listen_local(s, "bad name"), -EINVAL);
    CHECK_EQ_INT(rpc_server_listen_local(s, name), 0);
    CHECK_EQ_INT(rpc_server_listen_local(s, name), -EEXIST);
    /* the name is taken while this server holds it */
    rpc_server *s2 = start_server("127.0.0.1:0", NULL, 0);
    CHECK_EQ_INT(rpc_server_listen_local(s2, name), -EADDRINUSE);
    rpc_server_free(s2);

    /* nothing listens on TCP port 1: only the local socket can answer */
    rpc_client_opts lo = {.local = name, .connect_timeout_ms = 2000};
    rpc_client *c = rpc_client_new(base, "127.0.0.1:1", &lo);
    CHECK(c != NULL);
    result r = {.flags = RPC_CALL_SPLIT_TAIL};
    call(c, EDDY__METHOD__GET_MAP, 5, (size_t)3 << 20, 5000, &r);
    WAIT_FOR(r.done, 5000);
    CHECK_EQ_INT(r.err, 0);
    CHECK_EQ_INT(r.version, 6);
    CHECK_EQ_INT(r.tail_len, ((size_t)3 << 20) + 1);
    CHECK(r.tail_ok);
    CHECK(rpc_client_connected(c));
    CHECK(rpc_client_connected_local(c));
    /* held replies: acknowledged over the local socket as over TCP */
    released = unheld = released_in_handler = 0;
    result h = {0};
    call(c, EDDY__METHOD__DESCRIBE_PRODUCERS, 0, 0, 5000, &h);
    WAIT_FOR(h.done && released == 1, 5000);
    CHECK_EQ_INT(h.err, 0);
    CHECK_EQ_INT(unheld, 0);
    CHECK_EQ_INT(released, 1);
    rpc_client_free(c);

    /* a name nobody listens on: TCP */
    rpc_client_opts gone = {.local = other};
    c = rpc_client_new(base, addr, &gone);
    result r2 = {0};
    call(c, EDDY__METHOD__GET_MAP, 8, 100, 5000, &r2);
    WAIT_FOR(r2.done, 5000);
    CHECK_EQ_INT(r2.err, 0);
    CHECK_EQ_INT(r2.version, 9);
    CHECK(r2.tail_ok);
    CHECK(rpc_client_connected(c));
    CHECK(!rpc_client_connected_local(c));
    rpc_client_free(c);

    /* neither reachable: the call fails as an unsent one */
    rpc_client_opts none = {.local = other, .connect_timeout_ms = 300, .backoff_max_ms = 50};
    c = rpc_client_new(base, "127.0.0.1:1", &none);
    result r3 = {0};
    call(c, EDDY__METHOD__GET_MAP, 1, 0, 500, &r3);
    WAIT_FOR(r3.done, 5000);
    CHECK_EQ_INT(r3.err, -ECONNREFUSED);
    rpc_client_free(c);

    rpc_client_opts bad = {.local = "no such name"};
    CHECK(rpc_client_new(base, addr, &bad) == NULL);
    rpc_server_free(s);
}

int main(void) {
    eddy_log_set_level(EDDY_LOG_ERROR); /* connect failures are expected here */
    base = event_base_new();
    RUN(test_netaddr);
    RUN(test_roundtrip_big_tail);
    RUN(test_concurrent_out_of_order);
    RUN(test_timeout);
    RUN(test_refused_then_reconnect);
    RUN(test_server_freed_mid_call);
    RUN(test_cancel);
    RUN(test_hostname);
    RUN(test_reentrant);
    RUN(test_malformed_closes_one_connection);
    RUN(test_back_pressure);
    RUN(test_held_replies);
    RUN(test_local_socket);
    /* deferred clean-ups (evdns) run before the base is freed */
    WAIT_FOR(0, 20);
    event_base_free(base);
    return unit_done();
}
