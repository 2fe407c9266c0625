/* codec_check.h — shared helpers of the Kafka codec unit tests: a table of
 * codecs behind one signature, the round trip (encode, decode, consume all,
 * re-encode to the same bytes, every truncation is -EBADMSG), and comparison
 * macros. Included by test_kafka_codec_data.c and test_kafka_codec_admin.c. */
#ifndef EDDY_TEST_CODEC_CHECK_H
#define EDDY_TEST_CODEC_CHECK_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"
#include "unit.h"


#define S(lit) ((kafka_str){(lit), (int32_t)sizeof(lit) - 1})
#define B(lit) ((kafka_bytes){(const uint8_t *)(lit), (int32_t)sizeof(lit) - 1})
#define NULLS ((kafka_str){NULL, -1})
#define EMPTYS ((kafka_str){"", 0})
#define NULLB ((kafka_bytes){NULL, -1})
#define ZERO_UUID ((kafka_uuid){{0}})

#define ALLOC(a, n, T) ((T *)arena_calloc((a), (size_t)(n), sizeof(T)))

static inline kafka_uuid U(uint8_t seed) {
    kafka_uuid u;
    for (int i = 0; i < 16; i++)
        u.b[i] = (uint8_t)(seed * 16 + i);
    return u;
}

static inline int32_t *I32S(arena *a, int32_t x, int32_t y) {
    int32_t *p = ALLOC(a, 2, int32_t);
    p[0] = x;
    p[1] = y;
    return p;
}

#define EQ(x, y) CHECK_EQ_INT(x, y)
#define EQ_STR(x, y)                                          \
    do {                                                      \
        kafka_str _s1 = (x), _s2 = (y);                       \
        CHECK_EQ_INT(_s1.len, _s2.len);                       \
        if (_s1.len > 0 && _s1.len == _s2.len)                \
            CHECK_MEM(_s1.ptr, _s2.ptr, (size_t)_s1.len);     \
    } while (0)
#define EQ_BYTES(x, y)                                        \
    do {                                                      \
        kafka_bytes _b1 = (x), _b2 = (y);                     \
        CHECK_EQ_INT(_b1.len, _b2.len);                       \
        if (_b1.len > 0 && _b1.len == _b2.len)                \
            CHECK_MEM(_b1.ptr, _b2.ptr, (size_t)_b1.len);     \
    } while (0)
#define EQ_UUID(x, y) CHECK_MEM((x).b, (y).b, 16)
/* loop over the common prefix of two arrays whose counts were compared */
#define EACH(i, x, y, n) for (int32_t i = 0; i < (x)->n && i < (y)->n; i++)

typedef int (*dec_fn)(kafka_reader *, int16_t, arena *, void *);
typedef void (*enc_fn)(kafka_writer *, int16_t, const void *);

typedef struct codec {
    const char *name;
    dec_fn dec;
    enc_fn enc;
    int16_t max_version;
    size_t size;  /* of the decoded struct */
} codec;

#define CODEC(api, dir, maxv)                                                                   \
    static int dec_##api##_##dir(kafka_reader *r, int16_t v, arena *a, void *out) {            \
        return kafka_##api##_##dir##_decode(r, v, a, out);                                      \
    }                                                                                           \
    static void enc_##api##_##dir(kafka_writer *w, int16_t v, const void *in) {                \
        kafka_##api##_##dir##_encode(w, v, in);                                                 \
    }                                                                                           \
    static const codec api##_##dir = {#api "_" #dir, dec_##api##_##dir, enc_##api##_##dir,      \
                                      maxv, sizeof(kafka_##api##_##dir)};


/* Encode into one malloc'd buffer of exactly the encoded size, so that ASan
 * catches any read past its end. */
static inline uint8_t *encode(const codec *c, int16_t v, const void *in, size_t *len) {
    kafka_writer w;
    kw_init(&w);
    c->enc(&w, v, in);
    uint8_t *buf = NULL;
    CHECK_EQ_INT(kw_flatten(&w, &buf, len), 0);
    kw_free(&w);
    return buf;
}

/* Every strict prefix of a valid message is malformed. */
static inline void check_truncations(const codec *c, int16_t v, const uint8_t *buf, size_t len) {
    void *scratch = malloc(c->size);
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, buf, n);
        kafka_reader r;
        kr_init(&r, cut, n);
        arena a;
        arena_init(&a);
        int rc = c->dec(&r, v, &a, scratch);
        if (rc != -EBADMSG)
            fprintf(stderr, "%s v%d: truncated to %zu of %zu bytes gave %d\n", c->name, v, n, len, rc);
        CHECK_EQ_INT(rc, -EBADMSG);
        arena_free(&a);
        free(cut);
    }
    free(scratch);
}

/* A round trip: the decoded struct lands in @p out with views into t->buf,
 * both valid until rt_done(). */
typedef struct rt {
    uint8_t *buf;
    size_t len;
    arena a;
} rt;

static inline int rt_run(rt *t, const codec *c, int16_t v, const void *in, void *out) {
    arena_init(&t->a);
    t->buf = encode(c, v, in, &t->len);
    if (!t->buf)
        return -1;
    kafka_reader r;
    kr_init(&r, t->buf, t->len);
    int rc = c->dec(&r, v, &t->a, out);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(kr_remaining(&r), 0);
    if (rc != 0) {
        fprintf(stderr, "%s v%d: decode gave %d\n", c->name, v, rc);
        return -1;
    }
    /* what was decoded encodes to the same bytes */
    size_t len2 = 0;
    uint8_t *again = encode(c, v, out, &len2);
    CHECK_EQ_INT(len2, t->len);
    if (again && len2 == t->len)
        CHECK_MEM(again, t->buf, t->len);
    free(again);
    check_truncations(c, v, t->buf, t->len);
    return 0;
}

static inline void rt_done(rt *t) {
    free(t->buf);
    arena_free(&t->a);
}

/* Versions outside the valid range are refused by both decoders. */
static inline void check_version_range(const codec *c) {
    static const uint8_t some[64];
    int16_t bad[] = {-1, (int16_t)(c->max_version + 1), INT16_MAX};
    void *scratch = malloc(c->size);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kafka_reader r;
        kr_init(&r, some, sizeof some);
        arena a;
        arena_init(&a);
        CHECK_EQ_INT(c->dec(&r, bad[i], &a, scratch), -EBADMSG);
        arena_free(&a);
    }
    free(scratch);
}

/* Run fill/compare for one codec over all its versions. */
#define ROUNDTRIP_ALL(cd, T, fill, cmp)                                           \
    do {                                                                          \
        check_version_range(&cd);                                                 \
        for (int16_t v = 0; v <= cd.max_version; v++) {                           \
            int before = unit_failures;                                           \
            arena fa;                                                             \
            arena_init(&fa);                                                      \
            T in = fill(&fa, v), out;                                             \
            rt t;                                                                 \
            if (rt_run(&t, &cd, v, &in, &out) == 0)                               \
                cmp(&in, &out);                                                   \
            rt_done(&t);                                                          \
            arena_free(&fa);                                                      \
            if (unit_failures != before)                                          \
                fprintf(stderr, "  ^ in %s version %d\n", cd.name, v);            \
        }                                                                         \
    } while (0)

static inline void cmp_i32s(const int32_t *x, int32_t nx, const int32_t *y, int32_t ny) {
    EQ(nx, ny);
    for (int32_t i = 0; i < nx && i < ny; i++)
        EQ(x[i], y[i]);
}

static inline int decode_bytes(const codec *c, int16_t v, const uint8_t *p, size_t n, void *out, arena *a,
                        size_t *left) {
    kafka_reader r;
    kr_init(&r, p, n);
    int rc = c->dec(&r, v, a, out);
    if (left)
        *left = kr_remaining(&r);
    return rc;
}

static inline void check_encoding(const codec *c, int16_t v, const void *in, const uint8_t *want, size_t n) {
    size_t len = 0;
    uint8_t *got = encode(c, v, in, &len);
    CHECK_EQ_INT(len, n);
    if (got && len == n)
        CHECK_MEM(got, want, n);
    free(got);
}

#endif
