/* fe.h — the frontend's core objects: workers, connections, requests.
 *
 * A worker is one thread with one event loop; it owns its connections, its
 * RPC clients and its copy of the cluster map (route.h). A connection reads
 * length-prefixed Kafka frames, turns each into an fe_req, and writes the
 * responses strictly in request order. A request lives until its response is
 * queued (or it is known that none is due, acks=0), even if the connection
 * closes meanwhile: handlers waiting on RPCs then finish into the void. */
#ifndef EDDY_FE_H
#define EDDY_FE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "arena.h"
#include "conn_limits.h"
#include "fe_config.h"
#include "kafka_proto.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

struct event_base;
struct bufferevent;
struct evbuffer;
struct event;

typedef struct fe_worker fe_worker;
typedef struct fe_conn fe_conn;
typedef struct fe_req fe_req;
typedef struct fe_route fe_route;
typedef struct fe_stats fe_stats;

/** A request frame, reference counted so that record batches inside it can be
 *  handed to RPC output buffers without copying. */
typedef struct fe_frame {
    int refs;
    size_t len;
    uint8_t data[];
} fe_frame;

void fe_frame_ref(fe_frame *f);
void fe_frame_unref(fe_frame *f);
/** kw_release_fn adaptor: drops one reference. */
void fe_frame_release(void *f);
/** evbuffer_add_reference cleanup adaptor (@p extra is the frame). */
void fe_frame_evbuffer_cleanup(const void *data, size_t len, void *extra);

struct fe_req {
    fe_conn *conn;            /* holds a reference on the connection */
    fe_worker *worker;
    fe_frame *frame;          /* one reference */
    kafka_req_header hdr;
    kafka_reader body;        /* positioned at the request body */
    bool flexible;            /* this API version uses the flexible encoding */
    arena arena;              /* per-request allocations, freed with the request */
    uint64_t started_ns;
    /* reply slot */
    bool done;
    bool no_response;         /* acks=0 produce: nothing is written */
    struct evbuffer *resp;    /* complete response frame once done */
    TAILQ_ENTRY(fe_req) link;
};

TAILQ_HEAD(fe_req_queue, fe_req);

struct fe_conn {
    int refs;
    fe_worker *worker;
    struct bufferevent *bev;
    const fe_listener_conf *listener;
    struct fe_req_queue pending;  /* in request order */
    int inflight;
    bool closing;             /* close once pending responses are written */
    bool closed;              /* socket gone */
    bool reading;             /* read side enabled */
    bool authenticated;       /* no SASL on this listener, or SASL done */
    unsigned rights;          /* fe_right bits of the authenticated policy */
    char principal[128];      /* policy name, or "ANONYMOUS" */
    char entity_path[256];    /* EntityPath scope ("" for none) */
    int64_t session_expiry_ms; /* 0 for none */
    bool sasl_handshake_v0;   /* next frame is a raw SASL token */
    bool sasl_mechanism_ok;   /* SaslHandshake v1 done: SaslAuthenticate next */
    struct fe_scram *scram;   /* SCRAM exchange in progress (sasl.c), or NULL */
    char peer[64];
    fe_ipkey ip;              /* peer address, counted in worker->limits */
    /* idle_timeout_ms / auth_timeout_ms (NULL when neither applies) */
    struct event *timer;
    uint64_t accepted_ns;
    uint64_t last_active_ns;  /* last read or completed write */
    uint64_t id;
    struct fe_ahead *fetch_ahead; /* read-aheads per broker (fetch_ahead.h) */
    LIST_ENTRY(fe_conn) link;
};

struct fe_worker {
    int index;
    const fe_config *conf;
    /* newest cluster map version any worker has seen (shared by all
     * workers): a worker behind it refreshes before answering Metadata, so
     * a topic created through one connection is visible on every other */
    _Atomic uint64_t *map_hint;
    struct event_base *base;
    fe_route *route;
    fe_stats *stats;
    fe_conn_limits *limits;   /* shared by all workers (conn_limits.h) */
    void *tls_ctx;            /* fe_tls* (tls.h): the current SSL_CTX, swapped on SIGHUP */
    LIST_HEAD(, fe_conn) conns;
    uint64_t next_conn_id;
    /* new connections handed over by the acceptor thread */
    struct event *inbox_ev;
    void *inbox;              /* opaque, worker.c */
};

/** Start a request's response: writes nothing yet, returns a writer that
 *  already holds the response header; the handler appends the body and calls
 *  fe_req_finish(). */
void fe_resp_begin(fe_req *req, kafka_writer *w);
/** Queue the response written in @p w (header + body) and free the request
 *  when it is its turn. Consumes @p w. After this call @p req is gone. */
void fe_req_finish(fe_req *req, kafka_writer *w);
/** Finish a request that gets no response (acks=0). @p req is gone after. */
void fe_req_finish_silent(fe_req *req);
/** The request was malformed or not allowed: close the connection after the
 *  responses already queued ahead of it. @p req is gone after. */
void fe_req_fail(fe_req *req, const char *why);
/** Queue the response in @p w like fe_req_finish(), then close the
 *  connection once it is written (SASL failures). @p req is gone after. */
void fe_req_finish_and_close(fe_req *req, kafka_writer *w);
/** True while the client can still receive this request's response. */
bool fe_req_conn_alive(const fe_req *req);

/** Handle a new socket in this worker's thread (called by the worker). The
 *  connection was counted in w->limits for @p ip: it is released when the
 *  connection closes (or here, if it cannot be set up). */
void fe_conn_accept(fe_worker *w, int fd, const fe_listener_conf *l, const char *peer,
                    const fe_ipkey *ip);
void fe_conn_close_all(fe_worker *w);

/** Monotonic time in ns / wall clock in ms. */
uint64_t fe_now_ns(void);
int64_t fe_wall_ms(void);

#endif
