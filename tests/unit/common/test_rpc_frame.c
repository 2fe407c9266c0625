/* Unit tests of the RPC frame: write/take round trips, partial input,
 * malformed input, reference counting. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "rpc.h"
#include "unit.h"

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Write one GET_MAP request frame with @p tail_len pattern bytes of tail. */
static void write_sample(struct evbuffer *out, uint64_t id, uint64_t known, size_t tail_len) {
    Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
    hdr.id = id;
    hdr.method = EDDY__METHOD__GET_MAP;
    hdr.map_version = 99;
    hdr.body_len = 12345; /* must be overwritten by rpc_frame_write */
    Eddy__GetMapRequest body = EDDY__GET_MAP_REQUEST__INIT;
    body.known_version = known;
    struct evbuffer *tail = evbuffer_new();
    for (size_t i = 0; i < tail_len; i++) {
        uint8_t b = (uint8_t)(i * 7 + id);
        evbuffer_add(tail, &b, 1);
    }
    CHECK_EQ_INT(rpc_frame_write(out, &hdr, &body.base, tail), 0);
    CHECK_EQ_INT(evbuffer_get_length(tail), 0); /* moved out */
    evbuffer_free(tail);
}

static void check_sample(rpc_frame *f, uint64_t id, uint64_t known, size_t tail_len) {
    CHECK_EQ_INT(f->hdr->id, id);
    CHECK_EQ_INT(f->hdr->method, EDDY__METHOD__GET_MAP);
    CHECK_EQ_INT(f->hdr->map_version, 99);
    CHECK(!f->hdr->response);
    CHECK_EQ_INT(f->body_len, f->hdr->body_len);
    Eddy__GetMapRequest *m =
        (Eddy__GetMapRequest *)rpc_frame_unpack_body(f, &eddy__get_map_request__descriptor);
    CHECK(m != NULL);
    if (m) {
        CHECK_EQ_INT(m->known_version, known);
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    CHECK_EQ_INT(f->tail_len, tail_len);
    int same = 1;
    for (size_t i = 0; i < f->tail_len && i < tail_len; i++)
        if (f->tail[i] != (uint8_t)(i * 7 + id))
            same = 0;
    CHECK(same);
    CHECK(f->body + f->body_len == f->tail);
    CHECK(f->tail + f->tail_len == f->buf + f->len);
}

static void test_roundtrip(void) {
    struct evbuffer *b = evbuffer_new();
    write_sample(b, 5, 42, 1000);
    rpc_frame *f = NULL;
    CHECK_EQ_INT(rpc_frame_take(b, 0, &f), 1);
    CHECK_EQ_INT(evbuffer_get_length(b), 0);
    if (f) {
        CHECK_EQ_INT(f->refs, 1);
        check_sample(f, 5, 42, 1000);
    }
    rpc_frame_unref(f);
    evbuffer_free(b);
}

static void test_no_body_no_tail(void) {
    struct evbuffer *b = evbuffer_new();
    Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
    hdr.id = 77;
    hdr.response = true;
    hdr.status = EDDY__STATUS__NOT_OWNER;
    CHECK_EQ_INT(rpc_frame_write(b, &hdr, NULL, NULL), 0);
    rpc_frame *f = NULL;
    CHECK_EQ_INT(rpc_frame_take(b, 0, &f), 1);
    if (f) {
        CHECK_EQ_INT(f->hdr->id, 77);
        CHECK(f->hdr->response);
        CHECK_EQ_INT(f->hdr->status, EDDY__STATUS__NOT_OWNER);
        CHECK_EQ_INT(f->body_len, 0);
        CHECK_EQ_INT(f->tail_len, 0);
    }
    rpc_frame_unref(f);
    evbuffer_free(b);
}

/* Bytes arriving one at a time: nothing until the last one. */
static void test_byte_at_a_time(void) {
    struct evbuffer *src = evbuffer_new(), *in = evbuffer_new();
    write_sample(src, 9, 3, 300);
    size_t total = evbuffer_get_length(src);
    rpc_frame *f = NULL;
    int early = 0;
    for (size_t i = 0; i < total; i++) {
        uint8_t byte;
        evbuffer_remove(src, &byte, 1);
        evbuffer_add(in, &byte, 1);
        int r = rpc_frame_take(in, 0, &f);
        if (i + 1 < total) {
            if (r != 0)
                early++;
            CHECK_EQ_INT(evbuffer_get_length(in), i + 1); /* nothing consumed */
        } else {
            CHECK_EQ_INT(r, 1);
        }
    }
    CHECK_EQ_INT(early, 0);
    if (f)
        check_sample(f, 9, 3, 300);
    rpc_frame_unref(f);
    evbuffer_free(src);
    evbuffer_free(in);
}

static void test_back_to_back(void) {
    struct evbuffer *b = evbuffer_new();
    write_sample(b, 1, 10, 17);
    write_sample(b, 2, 20, 0);
    /* and half of a third one */
    write_sample(b, 3, 30, 50);
    size_t keep = evbuffer_get_length(b);
    rpc_frame *f1 = NULL, *f2 = NULL, *f3 = NULL;
    CHECK_EQ_INT(rpc_frame_take(b, 0, &f1), 1);
    CHECK_EQ_INT(rpc_frame_take(b, 0, &f2), 1);
    size_t third = evbuffer_get_length(b);
    CHECK(third < keep);
    struct evbuffer *partial = evbuffer_new();
    evbuffer_remove_buffer(b, partial, third / 2);
    CHECK_EQ_INT(rpc_frame_take(partial, 0, &f3), 0);
    evbuffer_add_buffer(partial, b);
    CHECK_EQ_INT(rpc_frame_take(partial, 0, &f3), 1);
    CHECK_EQ_INT(rpc_frame_take(partial, 0, &f3), 0);
    if (f1)
        check_sample(f1, 1, 10, 17);
    if (f2)
        check_sample(f2, 2, 20, 0);
    if (f3)
        check_sample(f3, 3, 30, 50);
    rpc_frame_unref(f1);
    rpc_frame_unref(f2);
    rpc_frame_unref(f3);
    evbuffer_free(b);
    evbuffer_free(partial);
}

/* Pattern check of a tail held anywhere: pulls it up. */
static void check_tail_bytes(const uint8_t *t, size_t n, size_t from, uint64_t id) {
    int same = 1;
    for (size_t i = 0; i < n; i++)
        if (t[i] != (uint8_t)((from + i) * 7 + id))
            same = 0;
    CHECK(same);
}

/* The input as many small chains, as a socket leaves it. */
static struct evbuffer *chopped(struct evbuffer *src, size_t piece) {
    struct evbuffer *in = evbuffer_new();
    while (evbuffer_get_length(src) > 0) {
        struct evbuffer *one = evbuffer_new();
        evbuffer_remove_buffer(src, one, piece);
        evbuffer_add_buffer(in, one);
        evbuffer_free(one);
    }
    return in;
}

/* Split take: header and body as usual, the tail moved into tail_buf; back
 * to back frames, a partial one, pullup and move in slices. */
static void test_split(void) {
    struct evbuffer *src = evbuffer_new();
    write_sample(src, 1, 10, 20000);
    write_sample(src, 2, 20, 0);
    write_sample(src, 3, 30, 5000);
    struct evbuffer *in = chopped(src, 1000);
    rpc_frame *f1 = NULL, *f2 = NULL, *f3 = NULL;
    CHECK_EQ_INT(rpc_frame_take_split(in, 0, &f1), 1);
    CHECK_EQ_INT(rpc_frame_take_split(in, 0, &f2), 1);
    /* half of the third: need more, nothing consumed */
    size_t third = evbuffer_get_length(in);
    struct evbuffer *rest = evbuffer_new();
    evbuffer_remove_buffer(in, rest, third / 2);
    evbuffer_add_buffer(rest, in); /* rest = whole third frame */
    evbuffer_remove_buffer(rest, in, third / 2);
    CHECK_EQ_INT(rpc_frame_missing(in), third - third / 2);
    CHECK_EQ_INT(rpc_frame_take_split(in, 0, &f3), 0);
    CHECK_EQ_INT(evbuffer_get_length(in), third / 2);
    evbuffer_add_buffer(in, rest);
    CHECK_EQ_INT(rpc_frame_missing(in), 0);
    CHECK_EQ_INT(rpc_frame_take_split(in, 0, &f3), 1);
    CHECK_EQ_INT(evbuffer_get_length(in), 0);
    if (f1) {
        CHECK(f1->tail == NULL && f1->tail_buf != NULL);
        CHECK_EQ_INT(f1->tail_len, 20000);
        CHECK_EQ_INT(evbuffer_get_length(f1->tail_buf), 20000);
        CHECK_EQ_INT(f1->len, 4 + eddy__rpc_header__get_packed_size(f1->hdr) + f1->body_len);
        /* move in three slices, in order, then one byte too many */
        struct evbuffer *a = evbuffer_new(), *b = evbuffer_new();
        CHECK_EQ_INT(rpc_frame_tail_move(f1, 1234, a), 0);
        CHECK_EQ_INT(rpc_frame_tail_move(f1, 0, a), 0);
        CHECK_EQ_INT(rpc_frame_tail_move(f1, 20000 - 1234, b), 0);
        CHECK_EQ_INT(rpc_frame_tail_move(f1, 1, b), -EBADMSG);
        CHECK_EQ_INT(evbuffer_get_length(a), 1234);
        CHECK_EQ_INT(evbuffer_get_length(b), 20000 - 1234);
        check_tail_bytes(evbuffer_pullup(a, -1), 1234, 0, 1);
        check_tail_bytes(evbuffer_pullup(b, -1), 20000 - 1234, 1234, 1);
        /* the frame can go before the bytes moved out of it */
        rpc_frame_unref(f1);
        f1 = NULL;
        check_tail_bytes(evbuffer_pullup(b, -1), 20000 - 1234, 1234, 1);
        evbuffer_free(a);
        evbuffer_free(b);
    }
    if (f2) {
        /* no tail: nothing split, tail usable as is */
        CHECK(f2->tail != NULL && f2->tail_buf == NULL);
        check_sample(f2, 2, 20, 0);
    }
    if (f3) {
        uint8_t *t = rpc_frame_tail_pullup(f3);
        CHECK(t != NULL && t == f3->tail);
        CHECK(rpc_frame_tail_pullup(f3) == t);
        if (t)
            check_tail_bytes(t, 5000, 0, 3);
        t[0] ^= 1; /* writable */
    }
    rpc_frame_unref(f1);
    rpc_frame_unref(f2);
    rpc_frame_unref(f3);
    evbuffer_free(src);
    evbuffer_free(in);
    evbuffer_free(rest);
}

/* A contiguous tail is moved by reference: the frame lives until the
 * destination lets the bytes go. */
static void test_move_contiguous(void) {
    struct evbuffer *b = evbuffer_new();
    write_sample(b, 8, 80, 3000);
    rpc_frame *f = NULL;
    CHECK_EQ_INT(rpc_frame_take(b, 0, &f), 1);
    if (!f) {
        evbuffer_free(b);
        return;
    }
    struct evbuffer *dst = evbuffer_new();
    CHECK_EQ_INT(rpc_frame_tail_move(f, 1000, dst), 0);
    CHECK_EQ_INT(rpc_frame_tail_move(f, 2000, dst), 0);
    CHECK_EQ_INT(rpc_frame_tail_move(f, 1, dst), -EBADMSG);
    CHECK_EQ_INT(f->refs, 3);
    rpc_frame_unref(f);
    check_tail_bytes(evbuffer_pullup(dst, -1), 3000, 0, 8);
    evbuffer_free(dst); /* drops the last references */
    evbuffer_free(b);
}

/* rpc_frame_fill reads the rest of a large frame straight from the socket;
 * end of stream is reported. */
static void test_fill(void) {
    int sv[2];
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    int big = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    struct evbuffer *src = evbuffer_new(), *in = evbuffer_new();
    write_sample(src, 4, 40, 100000);
    size_t total = evbuffer_get_length(src);
    /* nothing known yet: nothing read */
    CHECK_EQ_INT(rpc_frame_fill(in, sv[1], 1 << 20), 0);
    evbuffer_remove_buffer(src, in, 100);
    size_t sent = 0;
    while (evbuffer_get_length(src) > 0) {
        int k = evbuffer_write(src, sv[0]);
        if (k <= 0)
            break;
        sent += (size_t)k;
    }
    CHECK_EQ_INT(sent, total - 100);
    CHECK_EQ_INT(rpc_frame_missing(in), total - 100);
    /* a small budget first, then the rest */
    CHECK_EQ_INT(rpc_frame_fill(in, sv[1], 30000), 30000);
    evbuffer_unfreeze(in, 0); /* fill leaves the end frozen, as a bufferevent has it */
    int got = 0, r;
    while ((r = rpc_frame_fill(in, sv[1], 1 << 20)) > 0)
        got += r;
    evbuffer_unfreeze(in, 0);
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_INT((size_t)got, total - 100 - 30000);
    CHECK_EQ_INT(evbuffer_get_length(in), total);
    rpc_frame *f = NULL;
    CHECK_EQ_INT(rpc_frame_take(in, 0, &f), 1);
    if (f)
        check_sample(f, 4, 40, 100000);
    rpc_frame_unref(f);
    /* a frame cut short by the peer closing */
    write_sample(src, 5, 50, 50000);
    evbuffer_remove_buffer(src, in, 10);
    evbuffer_write_atmost(src, sv[0], 20000);
    close(sv[0]);
    got = 0;
    while ((r = rpc_frame_fill(in, sv[1], 1 << 20)) > 0)
        got += r;
    evbuffer_unfreeze(in, 0);
    CHECK_EQ_INT(r, -ECONNRESET);
    CHECK_EQ_INT(got, 20000);
    close(sv[1]);
    evbuffer_free(src);
    evbuffer_free(in);
}

static void test_oversized(void) {
    struct evbuffer *b = evbuffer_new();
    uint8_t hdr[4];
    put_be32(hdr, 1000001);
    evbuffer_add(b, hdr, 4);
    rpc_frame *f = NULL;
    /* refused from the 4 bytes alone: no waiting for a million bytes */
    CHECK_EQ_INT(rpc_frame_take(b, 1000000, &f), -EMSGSIZE);
    CHECK(f == NULL);
    evbuffer_drain(b, evbuffer_get_length(b));
    put_be32(hdr, 0xffffffffu);
    evbuffer_add(b, hdr, 4);
    CHECK_EQ_INT(rpc_frame_take(b, 0, &f), -EMSGSIZE);
    evbuffer_drain(b, evbuffer_get_length(b));
    /* a real frame just over a small cap, and the same one exactly at it */
    write_sample(b, 4, 4, 100);
    size_t flen = evbuffer_get_length(b) - 4;
    CHECK_EQ_INT(rpc_frame_take(b, flen - 1, &f), -EMSGSIZE);
    CHECK_EQ_INT(rpc_frame_take(b, flen, &f), 1);
    rpc_frame_unref(f);
    evbuffer_free(b);
}

/* Both take functions must agree on every input. */
static int take_raw(const uint8_t *bytes, size_t n) {
    struct evbuffer *b = evbuffer_new(), *b2 = evbuffer_new();
    evbuffer_add(b, bytes, n);
    evbuffer_add(b2, bytes, n);
    rpc_frame *f = NULL, *f2 = NULL;
    int r = rpc_frame_take(b, 0, &f);
    int r2 = rpc_frame_take_split(b2, 0, &f2);
    CHECK(f == NULL || r == 1);
    CHECK(f2 == NULL || r2 == 1);
    CHECK_EQ_INT(r2, r);
    rpc_frame_unref(f);
    rpc_frame_unref(f2);
    evbuffer_free(b);
    evbuffer_free(b2);
    return r;
}

static void test_malformed(void) {
    uint8_t m[64];
    /* frame_len < 4: no room for header_len */
    put_be32(m, 3);
    memset(m + 4, 0, 3);
    CHECK_EQ_INT(take_raw(m, 7), -EBADMSG);
    /* header_len past the end of the frame */
    put_be32(m, 8);
    put_be32(m + 4, 5);
    memset(m + 8, 0, 4);
    CHECK_EQ_INT(take_raw(m, 12), -EBADMSG);
    /* header_len huge (would overflow 4 + header_len on 32 bits) */
    put_be32(m, 8);
    put_be32(m + 4, 0xffffffffu);
    CHECK_EQ_INT(take_raw(m, 12), -EBADMSG);
    /* garbage header: field 1 as a varint that never ends */
    put_be32(m, 4 + 3);
    put_be32(m + 4, 3);
    m[8] = 0x08;
    m[9] = 0xff;
    m[10] = 0xff;
    CHECK_EQ_INT(take_raw(m, 11), -EBADMSG);
    /* body_len past the end: a valid header claiming 50 body bytes, 10 sent */
    Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
    hdr.id = 1;
    hdr.body_len = 50;
    size_t hlen = eddy__rpc_header__get_packed_size(&hdr);
    CHECK(hlen < 32);
    eddy__rpc_header__pack(&hdr, m + 8);
    put_be32(m + 4, (uint32_t)hlen);
    put_be32(m, (uint32_t)(4 + hlen + 10));
    memset(m + 8 + hlen, 0xab, 10);
    CHECK_EQ_INT(take_raw(m, 8 + hlen + 10), -EBADMSG);
    /* the same header with exactly 50 bytes is fine */
    uint8_t ok[128];
    memcpy(ok, m, 8 + hlen);
    put_be32(ok, (uint32_t)(4 + hlen + 50));
    memset(ok + 8 + hlen, 0xab, 50);
    CHECK_EQ_INT(take_raw(ok, 8 + hlen + 50), 1);
    /* an empty header is a valid (all-default) header */
    put_be32(m, 4);
    put_be32(m + 4, 0);
    CHECK_EQ_INT(take_raw(m, 8), 1);
    /* parse() itself refuses fewer than 4 bytes (and frees them) */
    rpc_frame *f = NULL;
    uint8_t *tiny = malloc(2);
    CHECK_EQ_INT(rpc_frame_parse(tiny, 2, &f), -EBADMSG);
    CHECK(f == NULL);
}

static void test_refcount(void) {
    struct evbuffer *b = evbuffer_new();
    write_sample(b, 6, 60, 64);
    rpc_frame *f = NULL;
    CHECK_EQ_INT(rpc_frame_take(b, 0, &f), 1);
    if (f) {
        rpc_frame_ref(f);
        CHECK_EQ_INT(f->refs, 2);
        rpc_frame_unref(f);
        CHECK_EQ_INT(f->refs, 1);
        /* still whole after the first unref (ASan checks the reads) */
        check_sample(f, 6, 60, 64);
        rpc_frame_unref(f);
    }
    rpc_frame_unref(NULL);
    evbuffer_free(b);
}

/* A body that is not what the caller expects unpacks to NULL. */
static void test_unpack_body_mismatch(void) {
    struct evbuffer *b = evbuffer_new();
    Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
    Eddy__TopicResult tr = EDDY__TOPIC_RESULT__INIT;
    tr.error_message = "x";
    struct evbuffer *tail = evbuffer_new();
    /* a tail holding a truncated varint, then claim it is the body */
    uint8_t junk[2] = {0x08, 0x80};
    evbuffer_add(tail, junk, 2);
    CHECK_EQ_INT(rpc_frame_write(b, &hdr, &tr.base, tail), 0);
    rpc_frame *f = NULL;
    CHECK_EQ_INT(rpc_frame_take(b, 0, &f), 1);
    if (f) {
        Eddy__TopicResult *m =
            (Eddy__TopicResult *)rpc_frame_unpack_body(f, &eddy__topic_result__descriptor);
        CHECK(m != NULL);
        if (m) {
            CHECK(strcmp(m->error_message, "x") == 0);
            protobuf_c_message_free_unpacked(&m->base, NULL);
        }
        f->body = f->tail;
        f->body_len = f->tail_len;
        CHECK(rpc_frame_unpack_body(f, &eddy__get_map_request__descriptor) == NULL);
    }
    rpc_frame_unref(f);
    evbuffer_free(tail);
    evbuffer_free(b);
}

int main(void) {
    RUN(test_roundtrip);
    RUN(test_no_body_no_tail);
    RUN(test_byte_at_a_time);
    RUN(test_back_to_back);
    RUN(test_split);
    RUN(test_move_contiguous);
    RUN(test_fill);
    RUN(test_oversized);
    RUN(test_malformed);
    RUN(test_refcount);
    RUN(test_unpack_body_mismatch);
    return unit_done();
}
