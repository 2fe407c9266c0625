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
struct rpc_tls; /* rpc_tls.h */

/* Both u32 lengths of a frame (frame_len, header_len) are big-endian. */

/** Largest frame accepted from a peer unless configured otherwise. */
#define RPC_DEFAULT_MAX_FRAME (128u << 20)

/** A received frame. The header is unpacked; body is a view into buf.
 *  Reference counted so that a consumer can keep the tail (record batches)
 *  alive while it is being sent on, without copying it.
 *
 *  The tail is held in one of two ways:
 *  - contiguous: tail points into buf (rpc_frame_take, rpc_frame_parse) or
 *    into tail_buf's single chain (after rpc_frame_tail_pullup); writable;
 *  - split: tail is NULL and tail_buf holds the tail_len bytes as they came
 *    off the socket, moved there chain by chain, never copied
 *    (rpc_frame_take_split). rpc_frame_tail_move() hands them on;
 *    rpc_frame_tail_pullup() makes them contiguous (a copy unless they fit
 *    one chain).
 *  tail_len is valid either way; tail is never NULL when tail_len is 0. */
typedef struct rpc_frame {
    uint8_t *buf;              /* owned: the bytes after the length prefix,
                                * up to the end of body (split) or of tail */
    size_t len;
    Eddy__RpcHeader *hdr;      /* owned: unpacked header */
    const uint8_t *body;       /* packed body message (hdr->body_len bytes) */
    size_t body_len;
    const uint8_t *tail;       /* raw tail, contiguous; NULL while split */
    size_t tail_len;
    struct evbuffer *tail_buf; /* owned, or NULL: see above */
    size_t tail_moved;         /* bytes already handed on by rpc_frame_tail_move */
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

/** As rpc_frame_take(), but leave the tail split: its bytes are moved out of
 *  @p in into (*out)->tail_buf with evbuffer_remove_buffer (whole chains
 *  change hands; only a partial chain at either end is copied), and only
 *  length prefix, header and body are copied into (*out)->buf. For frames
 *  whose tail is passed on (fetch replies): no copy and no frame-sized
 *  allocation. */
int rpc_frame_take_split(struct evbuffer *in, size_t max_frame, rpc_frame **out);

/** Make @p f's tail contiguous and return it (writable, valid while @p f
 *  lives, also f->tail); a no-op for a contiguous tail. Copies unless the
 *  tail already sits in one chain. Must not be mixed with
 *  rpc_frame_tail_move() on the same frame. Returns NULL only on OOM. */
uint8_t *rpc_frame_tail_pullup(rpc_frame *f);

/** Append the next @p n bytes of @p f's tail (from where the previous move
 *  stopped) to @p dst without copying them: a split tail's chains are moved,
 *  a contiguous tail is added by reference (evbuffer_add_reference, holding
 *  a frame reference until @p dst lets go of the bytes). Returns 0,
 *  -EBADMSG when fewer than @p n bytes are left, or -ENOMEM. */
int rpc_frame_tail_move(rpc_frame *f, size_t n, struct evbuffer *dst);

/** Bytes still to arrive for the frame at the head of @p in: 0 when it is
 *  complete, or when not even its length prefix is there. Never more than
 *  the frame's announced length. */
size_t rpc_frame_missing(struct evbuffer *in);

/** Read up to @p budget bytes of the frame being received straight from the
 *  socket @p fd into @p in, in large reads. libevent 2.1 reads at most 4 KiB
 *  per wakeup (EVBUFFER_MAX_READ), so a multi-MiB frame would otherwise
 *  cost a loop turn and a small readv per 4 KiB, and end up in thousands of
 *  small chains. Call only from the read callback of a plain socket
 *  bufferevent whose input is @p in (it keeps the input's end frozen
 *  otherwise, and this restores that), never of a TLS one (the socket
 *  carries ciphertext: rpc_tls_is_tls()); reads nothing when the head frame is complete, unknown or nearly
 *  there. Returns the bytes read, 0 when nothing is to be read now
 *  (EAGAIN included), or -errno: -ECONNRESET for end of stream, the read's
 *  error otherwise (the caller closes the connection). */
int rpc_frame_fill(struct evbuffer *in, int fd, size_t budget);

/** Tune glibc's malloc for a process that moves record batches through
 *  evbuffers (call once, first thing in main): megabytes of chains are
 *  allocated and freed per fetch, and with the defaults each cycle gave the
 *  memory back (heap trim above 128 KiB free; mmap/munmap for blocks above
 *  the mmap threshold) only to fault it in and zero it again. Keeps up to
 *  64 MiB of freed heap and serves blocks up to 32 MiB from the heap (see
 *  docs/performance.md). A no-op without glibc. */
void rpc_malloc_tune(void);

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
    struct rpc_tls *tls;       /* NULL: plaintext; else mutual TLS with this
                                * context (rpc_tls.h; the client takes a
                                * reference). A failed handshake counts as a
                                * failed connect (-ECONNREFUSED), or, when the
                                * server refuses our certificate after a
                                * TLS 1.3 handshake, as a lost connection. */
    const char *local;         /* NULL: TCP only; else the name of the peer's
                                * local listener (rpc_local.h), tried first
                                * at each connect; the client copies it */
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

/** True while the connection is up. */
bool rpc_client_connected(const rpc_client *c);

/** True while the connection is up over the peer's local listener. */
bool rpc_client_connected_local(const rpc_client *c);

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

/** Flags of rpc_client_call_ex(). */
enum {
    /** Deliver the reply with its tail split (reply->tail NULL, the bytes in
     *  reply->tail_buf; see rpc_frame): for replies whose tail is only passed
     *  on, with rpc_frame_tail_move(). Without it a reply's tail is
     *  contiguous (a reply that cannot be made so completes with -ENOMEM). */
    RPC_CALL_SPLIT_TAIL = 1u << 0,
};

/** rpc_client_call() with RPC_CALL_* @p flags. */
uint64_t rpc_client_call_ex(rpc_client *c, Eddy__Method method, uint64_t map_version,
                            const ProtobufCMessage *body, struct evbuffer *tail, int timeout_ms,
                            unsigned flags, rpc_reply_cb cb, void *arg);

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
/** As rpc_server_new(), but every connection is mutual TLS with @p tls
 *  (NULL: plaintext; the server takes a reference): a peer without a
 *  certificate of the context's CA is dropped during the handshake. */
rpc_server *rpc_server_new_tls(struct event_base *base, const char *address, size_t max_frame,
                               struct rpc_tls *tls, rpc_handler_fn handler, void *arg);
/** Stop listening and close every connection; calls still held by handlers
 *  stay valid and their replies are dropped. Accepts NULL. */
void rpc_server_free(rpc_server *s);
/** The port actually bound (useful with port 0 in tests). */
int rpc_server_port(const rpc_server *s);
/** Listen also on the abstract unix socket @p name (rpc_local.h), with the
 *  same handler and the same TLS as the TCP listener. Returns 0, -EEXIST
 *  (already), -EINVAL (bad name), -EADDRINUSE or another -errno. */
int rpc_server_listen_local(rpc_server *s, const char *name);
/** Stop reading a connection while more than @p high bytes of replies wait
 *  in its output; resume below half (0: the default, 64 MiB). */
void rpc_server_set_output_limit(rpc_server *s, size_t high);

/** Set the grace period of held replies (RPC_HOLD_GRACE_MS by default;
 *  tests shorten it). */
void rpc_server_set_hold_grace(rpc_server *s, int ms);

/** The request frame (borrowed; valid until rpc_call_reply). */
rpc_frame *rpc_call_frame(rpc_call *call);
/** False once the requesting connection has closed: a long-parked call (a
 *  fetch waiting for data) may then be answered at once. */
bool rpc_call_peer_alive(const rpc_call *call);
/** A stable id for the requesting connection (for FETCH_WAKE lookups). */
uint64_t rpc_call_conn_id(const rpc_call *call);

/** Releases what a held reply's tail refers to (rpc_call_reply_held). */
typedef void (*rpc_release_fn)(void *arg);

/** How long storage behind held replies stays unchanged after their
 *  connection closed: the peer may still read what its socket holds. */
#define RPC_HOLD_GRACE_MS 5000

/** True when @p call may be answered with rpc_call_reply_held(): the peer
 *  acknowledges held replies (it said so in the request header) and the
 *  connection is plaintext, so that file segments in the tail leave by
 *  sendfile() (a TLS connection would read them into memory first). */
bool rpc_call_can_hold(const rpc_call *call);

/** As rpc_call_reply(), for a tail with file segments
 *  (evbuffer_add_file_segment) that leave by sendfile(): the kernel sends
 *  references to the file's pages, and the peer's kernel copies from those
 *  pages only when the peer reads its socket, so their content must not
 *  change until then. The reply is marked held; the peer acknowledges it
 *  (REPLY_ACK) once it has read all of it, and then @p release(@p arg) runs.
 *  It also runs when the reply is not sent (connection gone, encoding
 *  failed: at once), when the connection closes first (after the grace
 *  period, RPC_HOLD_GRACE_MS), and at rpc_server_free (at once: the process
 *  is stopping). Requires rpc_call_can_hold(); returns as
 *  rpc_call_reply(). */
int rpc_call_reply_held(rpc_call *call, Eddy__Status status, const ProtobufCMessage *body,
                        struct evbuffer *tail, rpc_release_fn release, void *arg);

/** Answer and free @p call. @p body may be NULL; @p tail's content is moved
 *  (may be NULL). If the connection is gone the reply is dropped (and the
 *  tail drained): -ENOTCONN. If the reply cannot be encoded the connection is
 *  closed, so that the peer learns at once instead of at its timeout.
 *  Returns 0 or -errno (the call is freed either way). */
int rpc_call_reply(rpc_call *call, Eddy__Status status, const ProtobufCMessage *body,
                   struct evbuffer *tail);

#endif
