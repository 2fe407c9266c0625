/* rpc_frame.c — the RPC frame: u32 frame_len | u32 header_len | RpcHeader |
 * body | tail, both lengths big-endian (network order, as in Kafka).
 *
 * rpc_frame_take copies a frame off the socket buffer into ONE malloc'd
 * block: the header is unpacked by protobuf-c, body and tail stay views into
 * the block (the broker rewrites produced batches in place there).
 * rpc_frame_take_split copies only prefix, header and body, and moves the
 * tail's chains into an evbuffer of the frame: a fetch reply's megabytes of
 * record batches go from the RPC socket to the client socket without a copy
 * and without a frame-sized malloc (above glibc's mmap threshold that meant
 * page faults, zeroing and munmap for every fetch). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "byteorder.h"
#include "net_read.h"
#include "rpc.h"

/* header + body are packed into a stack buffer when they fit (the common
 * case: a header is ~20 bytes and most bodies are small), else into a
 * temporary heap block. */
#define FRAME_STACK_BYTES 512



/* Wrap an unpacked header and its block (header_len | header | body, and
 * the tail when contiguous) into a frame with one reference. Takes @p buf,
 * @p hdr and @p tail_buf (all freed on failure). */
static int frame_new(uint8_t *buf, size_t len, size_t hlen, Eddy__RpcHeader *hdr,
                     struct evbuffer *tail_buf, size_t tail_len, rpc_frame **out) {
    rpc_frame *f = calloc(1, sizeof *f);
    if (!f) {
        eddy__rpc_header__free_unpacked(hdr, NULL);
        free(buf);
        if (tail_buf)
            evbuffer_free(tail_buf);
        return -ENOMEM;
    }
    f->buf = buf;
    f->len = len;
    f->hdr = hdr;
    f->body = buf + 4 + hlen;
    f->body_len = hdr->body_len;
    f->tail_len = tail_len;
    f->tail_buf = tail_buf;
    /* split only when there is something to split */
    f->tail = tail_buf ? NULL : f->body + f->body_len;
    f->refs = 1;
    *out = f;
    return 0;
}

int rpc_frame_parse(uint8_t *buf, size_t len, rpc_frame **out) {
    if (len < 4) {
        free(buf);
        return -EBADMSG;
    }
    /* Check both lengths against what is there before protobuf-c sees a
     * byte: a header_len or body_len past the end is malformed input. */
    size_t hlen = be_get32(buf);
    if (hlen > len - 4) {
        free(buf);
        return -EBADMSG;
    }
    Eddy__RpcHeader *hdr = eddy__rpc_header__unpack(NULL, hlen, buf + 4);
    if (!hdr) {
        free(buf);
        return -EBADMSG;
    }
    size_t rest = len - 4 - hlen;
    if (hdr->body_len > rest) {
        eddy__rpc_header__free_unpacked(hdr, NULL);
        free(buf);
        return -EBADMSG;
    }
    return frame_new(buf, len, hlen, hdr, NULL, rest - hdr->body_len, out);
}

void rpc_frame_ref(rpc_frame *f) { f->refs++; }

void rpc_frame_unref(rpc_frame *f) {
    if (!f || --f->refs > 0)
        return;
    eddy__rpc_header__free_unpacked(f->hdr, NULL);
    if (f->tail_buf)
        evbuffer_free(f->tail_buf);
    free(f->buf);
    free(f);
}

uint8_t *rpc_frame_tail_pullup(rpc_frame *f) {
    if (!f->tail) {
        /* one chain: just a pointer to it; else one copy into a new chain */
        uint8_t *p = evbuffer_pullup(f->tail_buf, -1);
        if (!p)
            return NULL;
        f->tail = p;
    }
    return (uint8_t *)f->tail;
}

static void frame_ref_cleanup(const void *data, size_t len, void *extra) {
    (void)data;
    (void)len;
    rpc_frame_unref(extra);
}

int rpc_frame_tail_move(rpc_frame *f, size_t n, struct evbuffer *dst) {
    if (n > f->tail_len - f->tail_moved)
        return -EBADMSG;
    if (n == 0)
        return 0;
    if (f->tail) {
        /* contiguous: lend the bytes, the frame lives until dst is done */
        if (evbuffer_add_reference(dst, f->tail + f->tail_moved, n, frame_ref_cleanup, f) < 0)
            return -ENOMEM;
        rpc_frame_ref(f);
    } else if (evbuffer_remove_buffer(f->tail_buf, dst, n) != (int)n) {
        /* only a copy of a partial chain can fail; nothing was lost that
         * the caller could still use, so this frame is done for */
        return -ENOMEM;
    }
    f->tail_moved += n;
    return 0;
}

ProtobufCMessage *rpc_frame_unpack_body(const rpc_frame *f, const ProtobufCMessageDescriptor *desc) {
    return protobuf_c_message_unpack(desc, NULL, f->body_len, f->body);
}

int rpc_frame_write(struct evbuffer *out, Eddy__RpcHeader *hdr, const ProtobufCMessage *body,
                    struct evbuffer *tail) {
    size_t blen = body ? protobuf_c_message_get_packed_size(body) : 0;
    size_t tlen = tail ? evbuffer_get_length(tail) : 0;
    if (blen > UINT32_MAX)
        return -EMSGSIZE;
    hdr->body_len = (uint32_t)blen;
    size_t hlen = eddy__rpc_header__get_packed_size(hdr);
    /* frame_len counts everything after itself; compare piecewise so that
     * the sum cannot wrap. */
    if (tlen > UINT32_MAX || hlen + blen > UINT32_MAX - 4 - tlen)
        return -EMSGSIZE;
    size_t small = 8 + hlen + blen;
    uint8_t stackbuf[FRAME_STACK_BYTES];
    uint8_t *p = small <= sizeof stackbuf ? stackbuf : malloc(small);
    if (!p)
        return -ENOMEM;
    be_put32(p, (uint32_t)(4 + hlen + blen + tlen));
    be_put32(p + 4, (uint32_t)hlen);
    eddy__rpc_header__pack(hdr, p + 8);
    if (body)
        protobuf_c_message_pack(body, p + 8 + hlen);

    int r = 0;
    if (tlen == 0) {
        if (evbuffer_add(out, p, small) < 0)
            r = -ENOMEM;
    } else if (evbuffer_prepend(tail, p, small) < 0) {
        r = -ENOMEM;
    } else if (evbuffer_add_buffer(out, tail) < 0) {
        /* Prepending to the tail then moving it whole keeps the write
         * atomic: out never holds half a frame, and on failure the caller's
         * tail is restored. */
        evbuffer_drain(tail, small);
        r = -EINVAL;
    }
    if (p != stackbuf)
        free(p);
    return r;
}

int rpc_frame_take(struct evbuffer *in, size_t max_frame, rpc_frame **out) {
    if (max_frame == 0)
        max_frame = RPC_DEFAULT_MAX_FRAME;
    size_t avail = evbuffer_get_length(in);
    if (avail < 4)
        return 0;
    uint8_t lenb[4];
    if (evbuffer_copyout(in, lenb, 4) != 4)
        return 0;
    size_t flen = be_get32(lenb);
    /* Refuse before waiting: a peer must not make us buffer more than the
     * cap, and a frame without room for header_len is malformed. */
    if (flen > max_frame || flen > INT32_MAX)
        return -EMSGSIZE;
    if (flen < 4)
        return -EBADMSG;
    if (avail - 4 < flen)
        return 0;
    uint8_t *buf = malloc(flen);
    if (!buf)
        return -ENOMEM;
    evbuffer_drain(in, 4);
    if (evbuffer_remove(in, buf, flen) != (int)flen) {
        free(buf);
        return -EBADMSG;
    }
    int r = rpc_frame_parse(buf, flen, out);
    return r < 0 ? r : 1;
}

/* The frame at the head of @p in: its length when complete (1), 0 when more
 * bytes are needed, or the -errno of rpc_frame_take. */
static int head_frame(struct evbuffer *in, size_t max_frame, size_t *flen_out) {
    if (max_frame == 0)
        max_frame = RPC_DEFAULT_MAX_FRAME;
    size_t avail = evbuffer_get_length(in);
    uint8_t lenb[4];
    if (avail < 4 || evbuffer_copyout(in, lenb, 4) != 4)
        return 0;
    size_t flen = be_get32(lenb);
    if (flen > max_frame || flen > INT32_MAX)
        return -EMSGSIZE;
    if (flen < 4)
        return -EBADMSG;
    if (avail - 4 < flen)
        return 0;
    *flen_out = flen;
    return 1;
}

int rpc_frame_take_split(struct evbuffer *in, size_t max_frame, rpc_frame **out) {
    size_t flen;
    int r = head_frame(in, max_frame, &flen);
    if (r <= 0)
        return r;
    /* The whole frame is buffered: peek header_len and the header, unpack
     * it to learn body_len, then take prefix+header+body by copy (small)
     * and the tail by moving chains. */
    uint8_t pre[8];
    if (evbuffer_copyout(in, pre, 8) != 8)
        return -EBADMSG;
    size_t hlen = be_get32(pre + 4);
    if (hlen > flen - 4)
        return -EBADMSG;
    uint8_t stackbuf[FRAME_STACK_BYTES];
    uint8_t *hb = hlen <= sizeof stackbuf ? stackbuf : malloc(hlen ? hlen : 1);
    if (!hb)
        return -ENOMEM;
    struct evbuffer_ptr at;
    Eddy__RpcHeader *hdr = NULL;
    if (evbuffer_ptr_set(in, &at, 8, EVBUFFER_PTR_SET) == 0 &&
        evbuffer_copyout_from(in, &at, hb, hlen) == (ev_ssize_t)hlen)
        hdr = eddy__rpc_header__unpack(NULL, hlen, hb);
    if (hb != stackbuf)
        free(hb);
    if (!hdr)
        return -EBADMSG;
    if (hdr->body_len > flen - 4 - hlen) {
        eddy__rpc_header__free_unpacked(hdr, NULL);
        return -EBADMSG;
    }
    size_t head = 4 + hlen + hdr->body_len; /* header_len | header | body */
    size_t tail_len = flen - head;
    uint8_t *buf = malloc(head);
    struct evbuffer *tail_buf = tail_len ? evbuffer_new() : NULL;
    if (!buf || (tail_len && !tail_buf)) {
        eddy__rpc_header__free_unpacked(hdr, NULL);
        free(buf);
        if (tail_buf)
            evbuffer_free(tail_buf);
        return -ENOMEM;
    }
    evbuffer_drain(in, 4);
    if (evbuffer_remove(in, buf, head) != (int)head ||
        (tail_len && evbuffer_remove_buffer(in, tail_buf, tail_len) != (int)tail_len)) {
        /* the stream is out of step now: the caller closes it */
        eddy__rpc_header__free_unpacked(hdr, NULL);
        free(buf);
        if (tail_buf)
            evbuffer_free(tail_buf);
        return -ENOMEM;
    }
    r = frame_new(buf, head, hlen, hdr, tail_buf, tail_len, out);
    return r < 0 ? r : 1;
}

size_t rpc_frame_missing(struct evbuffer *in) {
    size_t avail = evbuffer_get_length(in);
    uint8_t lenb[4];
    if (avail < 4 || evbuffer_copyout(in, lenb, 4) != 4)
        return 0;
    size_t need = 4 + (size_t)be_get32(lenb);
    return need > avail ? need - avail : 0;
}

int rpc_frame_fill(struct evbuffer *in, int fd, size_t budget) {
    size_t missing = rpc_frame_missing(in);
    if (missing < NET_READ_FILL_MIN)
        return 0;
    return net_read_fill(in, fd, missing < budget ? missing : budget);
}

void rpc_malloc_tune(void) {
#ifdef __GLIBC__
    /* Setting either also turns off glibc's dynamic mmap threshold, which
     * would otherwise follow the largest block freed (up to 32 MiB) but
     * leaves the trim threshold at twice that: not enough for chains freed
     * in bulk after each fetch reply is written. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}
