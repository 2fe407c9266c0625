/* rpc.h — the internal RPC: framing, a multiplexing client and a server, on
 * libevent. Frame layout and messages: proto/eddy_rpc.proto.
 *
 * Threading: an rpc_client or rpc_server belongs to the event_base it was
 * created on; every function here must be called from that base's thread,
 * and every callback runs there.
 *
 * Record batches travel in the frame's raw tail, never inside protobuf. A tail
 * is handed over as an evbuffer whose content is moved (not copied) into the
 * socket's output. */
#ifndef EDDY_RPC_H
#define EDDY_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "eddy_rpc.pb-c.h"

struct event_base;
struct evbuffer;

/* Both u32 lengths of a frame (frame_len, header_len) are big-endian. */

/** Largest frame accepted from a peer unless configured otherwise. */
#define RPC_DEFAULT_MAX_FRAME (128u << 20)

/** A received frame. The header is unpacked; body and tail are views into
 *  buf. Reference counted so that a consumer can keep the tail (record
 *  batches) alive while it is being sent on, without copying it. */
typedef struct rpc_frame {
    uint8_t *buf;              /* owned: the bytes after the length prefix */
    size_t len;
    Eddy__RpcHeader *hdr;      /* owned: unpacked header */
    const uint8_t *body;       /* packed body message (hdr->body_len bytes) */
    size_t body_len;
    const uint8_t *tail;       /* raw tail */
    size_t tail_len;
    int refs;
} rpc_frame;

/** Parse a frame from @p buf (the bytes after the 4-byte length). Takes
 *  ownership of @p buf (freed on failure too). Returns 0 and *out with one
 *  reference, or -EBADMSG / -ENOMEM. */
int rpc_frame_parse(uint8_t *buf, size_t len, rpc_frame **out);
void rpc_frame_ref(rpc_frame *f);
/** Drop one reference; frees at zero. Accepts NULL. */
void rpc_frame_unref(rpc_frame *f);
/** Unpack the frame's body as @p desc (e.g. &eddy__produce_request__descriptor).
 *  Returns a message the caller frees with protobuf_c_message_free_unpacked,
 *  or NULL when malformed. */
ProtobufCMessage *rpc_frame_unpack_body(const rpc_frame *f, const ProtobufCMessageDescriptor *desc);

/** Append one encoded frame to @p out: header (body_len is filled in here),
 *  packed @p body (NULL for an empty body), then the content of @p tail,
 *  which is moved (tail is left empty; NULL for none). Returns 0 or -errno. */
int rpc_frame_write(struct evbuffer *out, Eddy__RpcHeader *hdr, const ProtobufCMessage *body,
                    struct evbuffer *tail);

/** Try to take one complete frame out of @p in. Returns 1 and *out (one
 *  reference) when a frame was taken, 0 when more bytes are needed, or
 *  -EMSGSIZE (length over @p max_frame) / -EBADMSG / -ENOMEM: the caller
 *  closes the connection. */
int rpc_frame_take(struct evbuffer *in, size_t max_frame, rpc_frame **out);

/* ---- client ------------------------------------------------------------ */

typedef struct rpc_client rpc_client;

/** Called once per call: @p err is 0 with @p reply set, or -ETIMEDOUT
 *  (sent, no answer in time), -ECONNRESET (connection lost after the call
 *  was sent), -ECONNREFUSED (could not connect in time: the call was never
 *  sent, so retrying it is safe), -ECANCELED (client freed). @p reply is
 *  borrowed: rpc_frame_ref() it to keep it past the callback. */
typedef void (*rpc_reply_cb)(int err, rpc_frame *reply, void *arg);

typedef struct rpc_client_opts {
    size_t max_frame;          /* 0: RPC_DEFAULT_MAX_FRAME */
    int connect_timeout_ms;    /* 0: 2000 */
    int backoff_max_ms;        /* reconnect backoff ceiling, 0: 1000 */
} rpc_client_opts;

/** Create a client for @p address ("host:port"). It connects lazily on the
 *  first call and reconnects with backoff after a failure. @p opts may be
 *  NULL. Returns NULL on OOM or a malformed address. */
rpc_client *rpc_client_new(struct event_base *base, const char *address, const rpc_client_opts *opts);

/** Free the client: pending calls complete with -ECANCELED first. Accepts
 *  NULL. */
void rpc_client_free(rpc_client *c);

/** The address this client talks to (owned by the client). */
const char *rpc_client_address(const rpc_client *c);

/** True while the TCP connection is up. */
bool rpc_client_connected(const rpc_client *c);

/** Send a request. @p body is packed now (the caller keeps ownership);
 *  @p tail's content is moved out (may be NULL). Calls made while not
 *  connected wait for the connection, within their timeout (@p timeout_ms
 *  <= 0: no deadline; the call still fails with the connection). @p cb never
 *  runs before this returns. Returns the call id (> 0), or 0 when the call
 *  could not even be queued (OOM, frame over 4 GiB, client being freed):
 *  then @p cb is not called and @p tail is left as it was. */
uint64_t rpc_client_call(rpc_client *c, Eddy__Method method, uint64_t map_version,
                         const ProtobufCMessage *body, struct evbuffer *tail, int timeout_ms,
                         rpc_reply_cb cb, void *arg);

/** Forget a pending call: its callback will not run. Unknown ids are ignored. */
void rpc_client_cancel(rpc_client *c, uint64_t id);

/* ---- server ------------------------------------------------------------ */

typedef struct rpc_server rpc_server;
typedef struct rpc_call rpc_call;

/** Called for each request received. The handler owns @p call and must end
 *  it exactly once with rpc_call_reply() (now or later, from the same thread).
 */
typedef void (*rpc_handler_fn)(rpc_call *call, void *arg);

/** Listen on @p address ("host:port"; host may be 0.0.0.0). Returns NULL and
 *  sets errno on failure. */
rpc_server *rpc_server_new(struct event_base *base, const char *address, size_t max_frame,
                           rpc_handler_fn handler, void *arg);
/** Stop listening and close every connection; calls still held by handlers
 *  stay valid and their replies are dropped. Accepts NULL. */
void rpc_server_free(rpc_server *s);
/** The port actually bound (useful with port 0 in tests). */
int rpc_server_port(const rpc_server *s);
/** Stop reading a connection while more than @p high bytes of replies wait
 *  in its output; resume below half (0: the default, 64 MiB). */
void rpc_server_set_output_limit(rpc_server *s, size_t high);

/** The request frame (borrowed; valid until rpc_call_reply). */
rpc_frame *rpc_call_frame(rpc_call *call);
/** False once the requesting connection has closed: a long-parked call (a
 *  fetch waiting for data) may then be answered at once. */
bool rpc_call_peer_alive(const rpc_call *call);
/** A stable id for the requesting connection (for FETCH_WAKE lookups). */
uint64_t rpc_call_conn_id(const rpc_call *call);

/** Answer and free @p call. @p body may be NULL; @p tail's content is moved
 *  (may be NULL). If the connection is gone the reply is dropped (and the
 *  tail drained): -ENOTCONN. If the reply cannot be encoded the connection is
 *  closed, so that the peer learns at once instead of at its timeout.
 *  Returns 0 or -errno (the call is freed either way). */
int rpc_call_reply(rpc_call *call, Eddy__Status status, const ProtobufCMessage *body,
                   struct evbuffer *tail);

#endif
