/* test_kafka_records.c — batch validation, iteration and in-place edits.
 * Inputs are placed right before a PROT_NONE page, so any read past the end
 * faults instead of passing silently. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "batch_build.h"
#include "crc32c.h"
#include "kafka_records.h"
#include "unit.h"

/* The batch of a Kafka 3.x log segment: one record "Hello Kafka!". */
static const uint8_t real_batch[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00,
    0x00, 0x00, 0x02, 0xab, 0xfd, 0x04, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x91, 0xe0, 0x5b, 0x6d, 0x8b, 0x00, 0x00, 0x01, 0x91, 0xe0, 0x5b, 0x6d,
    0x8b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x24, 0x00, 0x00, 0x00, 0x01, 0x18, 0x48, 0x65, 0x6c,
    0x6c, 0x6f, 0x20, 0x4b, 0x61, 0x66, 0x6b, 0x61, 0x21, 0x00};

enum { ARENA = 1 << 16 };
static uint8_t *arena; /* ARENA bytes, then a guard page */
static size_t page;

static void guard_init(void) {
    page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *m = mmap(NULL, ARENA + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (m == MAP_FAILED)
        abort();
    mprotect(m + ARENA, page, PROT_NONE);
    arena = m;
}

/* Copy @p len bytes so that they end at the guard page. */
static uint8_t *guarded(const void *src, size_t len) {
    uint8_t *p = arena + ARENA - len;
    memmove(p, src, len);
    return p;
}

static int validate(const uint8_t *src, size_t len, size_t max, int *nb, int64_t *nr) {
    return kafka_records_validate(guarded(src, len), len, max, nb, nr);
}

static void put32(uint8_t *p, uint32_t v) { tb_put_be(p, v, 4); }
static void recrc(uint8_t *b, size_t len) { put32(b + 17, crc32c(0, b + 21, len - 21)); }

static void test_valid(void) {
    int nb = -1;
    int64_t nr = -1;
    CHECK_EQ_INT(validate(real_batch, sizeof real_batch, 0, &nb, &nr), KAFKA_RECORDS_OK);
    CHECK_EQ_INT(nb, 1);
    CHECK_EQ_INT(nr, 1);
    kafka_batch b;
    CHECK_EQ_INT(kafka_batch_parse(real_batch, sizeof real_batch, &b), 0);
    CHECK_EQ_INT(b.batch_length, 0x44);
    CHECK_EQ_INT(b.total_len, sizeof real_batch);
    CHECK_EQ_INT(b.crc, 0xabfd0491u);
    CHECK_EQ_INT(b.record_count, 1);
    CHECK_EQ_INT(b.base_timestamp, 0x191e05b6d8bLL);

    uint8_t buf[4096];
    size_t n = tb_batch(buf, 10, 1000, 100, 'x');
    CHECK_EQ_INT(validate(buf, n, 0, &nb, &nr), KAFKA_RECORDS_OK);
    CHECK_EQ_INT(nb, 1);
    CHECK_EQ_INT(nr, 10);
    CHECK_EQ_INT(validate(buf, n, n, &nb, &nr), KAFKA_RECORDS_OK);
    CHECK_EQ_INT(validate(buf, n, n - 1, &nb, &nr), KAFKA_RECORDS_TOO_LARGE);
    CHECK_EQ_INT(validate(buf, 0, 0, &nb, &nr), KAFKA_RECORDS_EMPTY);
}

static void test_crc_flip(void) {
    uint8_t buf[512];
    size_t n = tb_batch(buf, 3, 5, 20, 'v');
    int nb, bad = 0;
    int64_t nr;
    /* Any bit flipped from the CRC field on must be caught. */
    for (size_t i = 17; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1 << bit);
            if (validate(buf, n, 0, &nb, &nr) != KAFKA_RECORDS_CORRUPT)
                bad++;
            buf[i] ^= (uint8_t)(1 << bit);
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* baseOffset and leader epoch lie outside the CRC. */
    buf[3] ^= 0x10;
    buf[13] ^= 0x10;
    CHECK_EQ_INT(validate(buf, n, 0, &nb, &nr), KAFKA_RECORDS_OK);
}

static void test_truncated(void) {
    uint8_t buf[512];
    size_t n = tb_batch(buf, 3, 5, 20, 't');
    int nb, bad = 0;
    int64_t nr;
    for (size_t len = 1; len < n; len++) {
        if (validate(buf, len, 0, &nb, &nr) != KAFKA_RECORDS_CORRUPT)
            bad++;
        /* kafka_records_next sees a partial batch, not corruption. */
        size_t off = 0;
        kafka_batch b;
        if (kafka_records_next(guarded(buf, len), len, &off, &b) != 0 || off != 0)
            bad++;
        kafka_batch_parse(guarded(buf, len), len, &b);
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_magic(void) {
    uint8_t buf[512];
    size_t n = tb_batch(buf, 1, 5, 3, 'm');
    int nb;
    int64_t nr;
    buf[16] = 1;
    CHECK_EQ_INT(validate(buf, n, 0, &nb, &nr), KAFKA_RECORDS_BAD_MAGIC);
    buf[16] = 0;
    CHECK_EQ_INT(validate(buf, n, 0, &nb, &nr), KAFKA_RECORDS_BAD_MAGIC);
    /* A v1 message set shorter than a v2 header: still "bad magic". */
    uint8_t v1[34] = {0};
    put32(v1 + 8, 22);
    v1[16] = 1;
    CHECK_EQ_INT(validate(v1, sizeof v1, 0, &nb, &nr), KAFKA_RECORDS_BAD_MAGIC);
    size_t off = 0;
    kafka_batch b;
    CHECK_EQ_INT(kafka_records_next(guarded(v1, sizeof v1), sizeof v1, &off, &b),
                 KAFKA_RECORDS_CORRUPT);
}

static void test_lying_lengths(void) {
    uint8_t buf[512], t[512];
    size_t n = tb_batch(buf, 2, 5, 10, 'l');
    int nb;
    int64_t nr;
    static const uint32_t lens[] = {0, 1, 48, 0x7fffffffu, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memcpy(t, buf, n);
        put32(t + 8, lens[i]);
        CHECK_EQ_INT(validate(t, n, 0, &nb, &nr), KAFKA_RECORDS_CORRUPT);
    }
    /* batchLength one longer than the bytes present. */
    memcpy(t, buf, n);
    put32(t + 8, (uint32_t)(n - 12 + 1));
    CHECK_EQ_INT(validate(t, n, 0, &nb, &nr), KAFKA_RECORDS_CORRUPT);
    /* Shorter batchLength: the rest is a bogus second batch. */
    memcpy(t, buf, n);
    put32(t + 8, (uint32_t)(n - 12 - 1));
    CHECK_EQ_INT(validate(t, n, 0, &nb, &nr), KAFKA_RECORDS_CORRUPT);
    /* Record count that disagrees with lastOffsetDelta (CRC made right). */
    memcpy(t, buf, n);
    put32(t + 57, 3);
    recrc(t, n);
    CHECK_EQ_INT(validate(t, n, 0, &nb, &nr), KAFKA_RECORDS_INVALID);
    /* Both say 3 but only 2 records are there. */
    put32(t + 23, 2);
    recrc(t, n);
    CHECK_EQ_INT(validate(t, n, 0, &nb, &nr), KAFKA_RECORDS_CORRUPT);
    /* Negative lastOffsetDelta. */
    memcpy(t, buf, n);
    put32(t + 23, 0xffffffffu);
    put32(t + 57, 0);
    recrc(t, n);
    CHECK_EQ_INT(validate(t, n, 0, &nb, &nr), KAFKA_RECORDS_INVALID);
    /* The first record's length varint claims one byte more. */
    memcpy(t, buf, n);
    t[61] = (uint8_t)(t[61] + 2); /* zig-zag: +2 is length + 1 */
    recrc(t, n);
    CHECK_EQ_INT(validate(t, n, 0, &nb, &nr), KAFKA_RECORDS_CORRUPT);
    /* Second record's offsetDelta 0 instead of 1. */
    memcpy(t, buf, n);
    size_t r1 = 61 + 1 + (size_t)(t[61] >> 1); /* first record: 1-byte length varint */
    CHECK_EQ_INT(t[r1 + 3], 2);                 /* zig-zag 1 */
    t[r1 + 3] = 0;
    recrc(t, n);
    CHECK_EQ_INT(validate(t, n, 0, &nb, &nr), KAFKA_RECORDS_INVALID);
}

static void test_two_batches(void) {
    uint8_t buf[2048];
    size_t a = tb_batch(buf, 3, 5, 10, 'a');
    size_t b = tb_batch(buf + a, 4, 9, 10, 'b');
    int nb;
    int64_t nr;
    CHECK_EQ_INT(validate(buf, a + b, 0, &nb, &nr), KAFKA_RECORDS_OK);
    CHECK_EQ_INT(nb, 2);
    CHECK_EQ_INT(nr, 7);
    buf[a + b] = 0;
    CHECK_EQ_INT(validate(buf, a + b + 1, 0, &nb, &nr), KAFKA_RECORDS_CORRUPT);

    /* Fetch-style: two whole batches then a partial third, at every cut. */
    size_t c = tb_batch(buf + a + b, 2, 20, 10, 'c');
    int bad = 0;
    for (size_t cut = a + b; cut < a + b + c; cut++) {
        const uint8_t *g = guarded(buf, cut);
        size_t off = 0;
        kafka_batch kb;
        if (kafka_records_next(g, cut, &off, &kb) != 1 || off != a || kb.record_count != 3)
            bad++;
        if (kafka_records_next(g, cut, &off, &kb) != 1 || off != a + b || kb.record_count != 4)
            bad++;
        if (kafka_records_next(g, cut, &off, &kb) != 0 || off != a + b)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    size_t off = 0;
    kafka_batch kb;
    const uint8_t *g = guarded(buf, a + b + c);
    int n = 0;
    while (kafka_records_next(g, a + b + c, &off, &kb) == 1)
        n++;
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(off, a + b + c);
    /* An impossible header in the middle is corruption. */
    put32(buf + a + 8, 10);
    off = a;
    CHECK_EQ_INT(kafka_records_next(guarded(buf, a + b), a + b, &off, &kb),
                 KAFKA_RECORDS_CORRUPT);
}

static void test_edits(void) {
    uint8_t buf[1024];
    size_t n = tb_batch(buf, 4, 1000, 10, 'e');
    int nb;
    int64_t nr;
    kafka_batch_set_base_offset(buf, 123456789012LL);
    kafka_batch_set_leader_epoch(buf, 7);
    CHECK_EQ_INT(validate(buf, n, 0, &nb, &nr), KAFKA_RECORDS_OK);
    kafka_batch_set_log_append_time(buf, n, 5555);
    CHECK_EQ_INT(validate(buf, n, 0, &nb, &nr), KAFKA_RECORDS_OK);
    kafka_batch b;
    CHECK_EQ_INT(kafka_batch_parse(buf, n, &b), 0);
    CHECK_EQ_INT(b.base_offset, 123456789012LL);
    CHECK_EQ_INT(b.partition_leader_epoch, 7);
    CHECK(b.attributes & KAFKA_ATTR_TIMESTAMP_LOG_APPEND);
    CHECK_EQ_INT(b.max_timestamp, 5555);
    CHECK_EQ_INT(b.base_timestamp, 1000);
}

static void test_find_time(void) {
    uint8_t buf[1024];
    size_t n = tb_batch(buf, 5, 1000, 10, 'f'); /* timestamps 1000..1004 */
    kafka_batch_set_base_offset(buf, 50);
    kafka_batch b;
    CHECK_EQ_INT(kafka_batch_parse(buf, n, &b), 0);
    int64_t off = -1, ts = -1;
    CHECK_EQ_INT(kafka_batch_find_time(&b, 1002, &off, &ts), 1);
    CHECK_EQ_INT(off, 52);
    CHECK_EQ_INT(ts, 1002);
    CHECK_EQ_INT(kafka_batch_find_time(&b, 0, &off, &ts), 1);
    CHECK_EQ_INT(off, 50);
    CHECK_EQ_INT(kafka_batch_find_time(&b, 1005, &off, &ts), 0);
    kafka_batch_set_log_append_time(buf, n, 9000);
    CHECK_EQ_INT(kafka_batch_parse(buf, n, &b), 0);
    CHECK_EQ_INT(kafka_batch_find_time(&b, 1003, &off, &ts), 1);
    CHECK_EQ_INT(off, 50);
    CHECK_EQ_INT(ts, 9000);
}

/* Random damage anywhere must give an answer, never a crash or a read past
 * the end (ASan and the guard page watch). */
static void test_random_damage(void) {
    uint8_t buf[4096], t[4096];
    size_t a = tb_batch(buf, 5, 1, 30, 'r');
    size_t n = a + tb_batch(buf + a, 3, 2, 30, 's');
    uint32_t seed = 777;
    int ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(t, buf, n);
        int flips = 1 + iter % 4;
        for (int f = 0; f < flips; f++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            t[pos] = (uint8_t)(seed >> 16);
        }
        if (iter % 2)
            recrc(t, a); /* reach the record checks of the first batch */
        size_t len = n - (size_t)(iter % 7);
        int nb;
        int64_t nr;
        if (validate(t, len, 0, &nb, &nr) == KAFKA_RECORDS_OK)
            ok++;
        size_t off = 0;
        kafka_batch kb;
        const uint8_t *g = guarded(t, len);
        while (kafka_records_next(g, len, &off, &kb) == 1) {
        }
    }
    CHECK(ok < 20000);
}

int main(void) {
    guard_init();
    RUN(test_valid);
    RUN(test_crc_flip);
    RUN(test_truncated);
    RUN(test_magic);
    RUN(test_lying_lengths);
    RUN(test_two_batches);
    RUN(test_edits);
    RUN(test_find_time);
    RUN(test_random_damage);
    return unit_done();
}
