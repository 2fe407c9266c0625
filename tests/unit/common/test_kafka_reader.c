/* Unit tests of the bounds-checked reader and the segment writer: every
 * primitive round-trips, every truncation is refused, lying lengths and counts
 * are refused before anything is allocated, references are released once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"
#include "unit.h"

static void write_all(kafka_writer *w, bool flex) {
    kafka_uuid u;
    for (int i = 0; i < 16; i++)
        u.b[i] = (uint8_t)(i * 7);
    kw_i8(w, -5);
    kw_i16(w, -300);
    kw_i32(w, -70000);
    kw_i64(w, -5000000000LL);
    kw_u32(w, 0xdeadbeefu);
    kw_bool(w, true);
    kw_f64(w, 2.5);
    kw_uvarint(w, 300);
    kw_varint(w, -64);
    kw_varlong(w, -(1LL << 40));
    kw_uuid(w, &u);
    kw_cstr(w, flex, "hello");
    kw_cstr(w, flex, NULL);
    kw_bytes(w, flex, "\x01\x02\x03", 3);
    kw_bytes(w, flex, NULL, -1);
    kw_array(w, flex, 2);
    kw_i32(w, 11);
    kw_i32(w, 22);
    kw_array(w, flex, -1);
    kw_tags_empty(w, flex);
}

static void read_all(kafka_reader *r, bool flex) {
    CHECK_EQ_INT(kr_i8(r), -5);
    CHECK_EQ_INT(kr_i16(r), -300);
    CHECK_EQ_INT(kr_i32(r), -70000);
    CHECK_EQ_INT(kr_i64(r), -5000000000LL);
    CHECK_EQ_INT(kr_u32(r), 0xdeadbeefu);
    CHECK(kr_bool(r));
    CHECK(kr_f64(r) == 2.5);
    CHECK_EQ_INT(kr_uvarint(r), 300);
    CHECK_EQ_INT(kr_varint(r), -64);
    CHECK_EQ_INT(kr_varlong(r), -(1LL << 40));
    kafka_uuid u = kr_uuid(r);
    CHECK_EQ_INT(u.b[15], 15 * 7);
    kafka_str s = kr_nstring(r, flex);
    CHECK(kafka_str_eq(s, "hello"));
    s = kr_nstring(r, flex);
    CHECK_EQ_INT(s.len, -1);
    kafka_bytes b = kr_nbytes(r, flex);
    CHECK_EQ_INT(b.len, 3);
    CHECK(b.ptr && b.ptr[2] == 3);
    b = kr_nbytes(r, flex);
    CHECK_EQ_INT(b.len, -1);
    CHECK_EQ_INT(kr_array(r, flex, 4), 2);
    CHECK_EQ_INT(kr_i32(r), 11);
    CHECK_EQ_INT(kr_i32(r), 22);
    CHECK_EQ_INT(kr_array(r, flex, 4), -1);
    kr_skip_tags(r, flex);
}

static void test_round_trip(void) {
    for (int flex = 0; flex < 2; flex++) {
        kafka_writer w;
        kw_init(&w);
        write_all(&w, flex);
        uint8_t *buf;
        size_t len;
        CHECK_EQ_INT(kw_flatten(&w, &buf, &len), 0);
        CHECK_EQ_INT(len, kw_len(&w));
        kafka_reader r;
        kr_init(&r, buf, len);
        read_all(&r, flex);
        CHECK(kr_ok(&r));
        CHECK_EQ_INT(kr_remaining(&r), 0);
        /* every truncation fails cleanly, reading from an exact-size copy so
         * that ASan sees any overrun */
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, buf, cut);
            kafka_reader t;
            kr_init(&t, copy, cut);
            int before = unit_failures;
            unit_quiet = 1;
            read_all(&t, flex);
            unit_quiet = 0;
            unit_failures = before; /* values are wrong by design; only ok matters */
            CHECK(!kr_ok(&t));
            free(copy);
        }
        free(buf);
        kw_free(&w);
    }
}

static void test_lying_lengths(void) {
    /* string length 10 with 2 bytes left */
    uint8_t s1[] = {0x00, 0x0a, 'a', 'b'};
    kafka_reader r;
    kr_init(&r, s1, sizeof s1);
    kafka_str s = kr_string(&r, false);
    CHECK(!kr_ok(&r));
    CHECK(s.ptr == NULL);
    /* negative length other than -1 */
    uint8_t s2[] = {0xff, 0xfe};
    kr_init(&r, s2, sizeof s2);
    (void)kr_nstring(&r, false);
    CHECK(!kr_ok(&r));
    /* null where not nullable */
    uint8_t s3[] = {0xff, 0xff};
    kr_init(&r, s3, sizeof s3);
    (void)kr_string(&r, false);
    CHECK(!kr_ok(&r));
    /* array of 1e9 elements in 8 bytes */
    uint8_t a1[] = {0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0};
    kr_init(&r, a1, sizeof a1);
    CHECK_EQ_INT(kr_array(&r, false, 4), 0);
    CHECK(!kr_ok(&r));
    /* compact array: count 3 (encoded 4) with one 4-byte element left */
    uint8_t a2[] = {0x04, 0, 0, 0, 1};
    kr_init(&r, a2, sizeof a2);
    CHECK_EQ_INT(kr_array(&r, true, 4), 0);
    CHECK(!kr_ok(&r));
    /* over-long varint */
    uint8_t v1[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    kr_init(&r, v1, sizeof v1);
    (void)kr_uvarint(&r);
    CHECK(!kr_ok(&r));
    /* a tag count larger than the bytes could hold */
    uint8_t t1[] = {0x7f};
    kr_init(&r, t1, sizeof t1);
    kr_skip_tags(&r, true);
    CHECK(!kr_ok(&r));
    /* the error is sticky */
    kr_init(&r, s1, sizeof s1);
    (void)kr_i64(&r);
    CHECK_EQ_INT(kr_i8(&r), 0);
    CHECK(!kr_ok(&r));
}

static int released;
static void release(void *owner) {
    (void)owner;
    released++;
}

static void test_writer_refs_and_patch(void) {
    static const char payload[] = "0123456789abcdef";
    kafka_writer w;
    kw_init(&w);
    kw_mark m = kw_reserve_i32(&w);
    kw_i16(&w, 7);
    released = 0;
    kw_ref(&w, payload, 16, release, NULL);
    kw_i16(&w, 8);
    kw_patch_i32(&w, m, (int32_t)kw_len(&w) - 4);
    CHECK_EQ_INT(kw_len(&w), 4 + 2 + 16 + 2);
    struct evbuffer *out = evbuffer_new();
    CHECK_EQ_INT(kw_to_evbuffer(&w, out), 0);
    CHECK_EQ_INT(released, 0); /* still referenced by the evbuffer */
    uint8_t buf[64];
    CHECK_EQ_INT(evbuffer_remove(out, buf, sizeof buf), 24);
    CHECK_EQ_INT(released, 1);
    kafka_reader r;
    kr_init(&r, buf, 24);
    CHECK_EQ_INT(kr_i32(&r), 20);
    CHECK_EQ_INT(kr_i16(&r), 7);
    CHECK_MEM(kr_raw(&r, 16), payload, 16);
    CHECK_EQ_INT(kr_i16(&r), 8);
    evbuffer_free(out);
    kw_free(&w);
    /* kw_free releases references that were never sent */
    kw_init(&w);
    kw_ref(&w, payload, 16, release, NULL);
    kw_free(&w);
    CHECK_EQ_INT(released, 2);
}

/* An evbuffer segment: its chains move into the output at kw_to_evbuffer;
 * kw_flatten copies it; kw_free frees it. */
static void test_writer_evbuffer(void) {
    static const char payload[] = "0123456789abcdef";
    kafka_writer w;
    kw_init(&w);
    kw_i16(&w, 7);
    struct evbuffer *e = evbuffer_new();
    for (int i = 0; i < 1000; i++)
        evbuffer_add(e, payload, 16);
    kw_evbuffer(&w, e);
    kw_i16(&w, 8);
    CHECK_EQ_INT(kw_len(&w), 2 + 16000 + 2);
    uint8_t *flat;
    size_t len;
    CHECK_EQ_INT(kw_flatten(&w, &flat, &len), 0);
    CHECK_EQ_INT(len, 16004);
    CHECK_MEM(flat + 2 + 15984, payload, 16);
    CHECK_EQ_INT(flat[16003], 8);
    struct evbuffer *out = evbuffer_new();
    CHECK_EQ_INT(kw_to_evbuffer(&w, out), 0);
    CHECK_EQ_INT(evbuffer_get_length(out), 16004);
    CHECK_MEM(evbuffer_pullup(out, -1), flat, 16004);
    free(flat);
    evbuffer_free(out);
    kw_free(&w);
    /* never sent: kw_free frees the evbuffer (ASan checks) */
    kw_init(&w);
    e = evbuffer_new();
    evbuffer_add(e, payload, 16);
    kw_evbuffer(&w, e);
    kw_free(&w);
}

static void test_large_writes(void) {
    /* many segments: grows past several chunks and keeps order */
    kafka_writer w;
    kw_init(&w);
    for (int i = 0; i < 100000; i++)
        kw_i32(&w, i);
    uint8_t *buf;
    size_t len;
    CHECK_EQ_INT(kw_flatten(&w, &buf, &len), 0);
    CHECK_EQ_INT(len, 400000);
    kafka_reader r;
    kr_init(&r, buf, len);
    int bad = 0;
    for (int i = 0; i < 100000; i++)
        bad += kr_i32(&r) != i;
    CHECK_EQ_INT(bad, 0);
    free(buf);
    kw_free(&w);
}

static void test_arena(void) {
    arena a;
    arena_init(&a);
    char *p = arena_strndup(&a, "abc", 3);
    CHECK(p && !strcmp(p, "abc"));
    void *big = arena_alloc(&a, 1 << 20);
    CHECK(big != NULL);
    CHECK(arena_calloc(&a, SIZE_MAX / 2, 4) == NULL); /* overflow refused */
    int *q = arena_calloc(&a, 10, sizeof *q);
    CHECK(q && q[9] == 0);
    CHECK(((uintptr_t)q & 7) == 0);
    arena_free(&a);
    arena_free(&a); /* twice is fine */
}

int main(void) {
    RUN(test_round_trip);
    RUN(test_lying_lengths);
    RUN(test_writer_refs_and_patch);
    RUN(test_writer_evbuffer);
    RUN(test_large_writes);
    RUN(test_arena);
    return unit_done();
}
