/* rpc_frame.c — the RPC frame: u32 frame_len | u32 header_len | RpcHeader |
 * body | tail, both lengths big-endian (network order, as in Kafka).
 *
 * A frame is taken off the socket buffer into ONE malloc'd block; the header
 * is unpacked by protobuf-c, body and tail stay views into the block so that
 * record batches are never copied again on this side. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "rpc.h"

/* header + body are packed into a stack buffer when they fit (the common
 * case: a header is ~20 bytes and most bodies are small), else into a
 * temporary heap block. */
#define FRAME_STACK_BYTES 512

static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int rpc_frame_parse(uint8_t *buf, size_t len, rpc_frame **out) {
    if (len < 4) {
        free(buf);
        return -EBADMSG;
    }
    /* Check both lengths against what is there before protobuf-c sees a
     * byte: a header_len or body_len past the end is malformed input. */
    size_t hlen = get_be32(buf);
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
    rpc_frame *f = calloc(1, sizeof *f);
    if (!f) {
        eddy__rpc_header__free_unpacked(hdr, NULL);
        free(buf);
        return -ENOMEM;
    }
    f->buf = buf;
    f->len = len;
    f->hdr = hdr;
    f->body = buf + 4 + hlen;
    f->body_len = hdr->body_len;
    f->tail = f->body + f->body_len;
    f->tail_len = rest - f->body_len;
    f->refs = 1;
    *out = f;
    return 0;
}

void rpc_frame_ref(rpc_frame *f) { f->refs++; }

void rpc_frame_unref(rpc_frame *f) {
    if (!f || --f->refs > 0)
        return;
    eddy__rpc_header__free_unpacked(f->hdr, NULL);
    free(f->buf);
    free(f);
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
    put_be32(p, (uint32_t)(4 + hlen + blen + tlen));
    put_be32(p + 4, (uint32_t)hlen);
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
    size_t flen = get_be32(lenb);
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
