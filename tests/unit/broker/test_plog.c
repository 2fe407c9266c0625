/* test_plog.c — partition logs: append in a transaction, reads from any
 * offset, restart recovery, drop, truncate_head, offset_for_time. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "batch_build.h"
#include "kafka_records.h"
#include "plog.h"
#include "unit.h"

static char tmp[64];
static const uint8_t topic_a[16] = {0xaa, 1, 2, 3};
static const uint8_t topic_b[16] = {0xbb, 1, 2, 3};

static br_store *open_store(const char *sub, bool sync) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", tmp, sub);
    br_store_opts o = {.dir = dir, .map_size = 64 << 20, .sync = sync};
    br_store *s = NULL;
    if (br_store_open(&o, &s) < 0)
        abort();
    return s;
}

/* Append one batch of @p nrec records (timestamps ts0..) in its own
 * transaction, as the committer would. Returns the base offset or -errno. */
static int64_t append_sized(br_store *s, br_part *p, int nrec, size_t value_len, int64_t ts0,
                            int64_t lat) {
    uint8_t *buf = malloc(tb_batch_cap(nrec, value_len));
    size_t n = tb_batch(buf, nrec, ts0, value_len, (uint8_t)nrec);
    MDB_txn *txn;
    int64_t base = -1;
    if (mdb_txn_begin(br_store_env(s), NULL, 0, &txn))
        abort();
    int r = br_plog_append(s, txn, p, buf, n, 3, lat, &base);
    if (r == 0)
        r = br_store_error(mdb_txn_commit(txn));
    else
        mdb_txn_abort(txn);
    if (r == 0)
        br_plog_publish(p, (int64_t)n);
    free(buf);
    return r < 0 ? r : base;
}

static int64_t append(br_store *s, br_part *p, int nrec, int64_t ts0, int64_t lat) {
    return append_sized(s, p, nrec, 50, ts0, lat);
}

/* Read from @p off; check the batches returned: whole, in order, the first
 * containing @p off, contiguous. Returns the number of batches or -errno. */
static int read_check(br_store *s, br_part *p, int64_t off, size_t max, int64_t *end) {
    struct evbuffer *eb = evbuffer_new();
    size_t n = 0;
    int r = br_plog_read(s, p, off, max, eb, &n);
    if (r < 0) {
        evbuffer_free(eb);
        return r;
    }
    size_t len = evbuffer_get_length(eb);
    const uint8_t *d = evbuffer_pullup(eb, -1);
    int nb = 0, bad = (len != n);
    int64_t expect = -1;
    size_t pos = 0;
    kafka_batch b;
    while (kafka_records_next(d, len, &pos, &b) == 1) {
        if (nb == 0 && (b.base_offset > off || b.base_offset + b.last_offset_delta < off))
            bad = 1;
        if (nb > 0 && b.base_offset != expect)
            bad = 1;
        if (b.partition_leader_epoch != 3)
            bad = 1;
        expect = b.base_offset + b.last_offset_delta + 1;
        nb++;
    }
    if (pos != len)
        bad = 1;
    if (end)
        *end = expect;
    evbuffer_free(eb);
    return bad ? -EBADMSG : nb;
}

static void test_append_read(void) {
    br_store *s = open_store("ar", false);
    br_part *p = NULL, *q = NULL;
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, false, &p), -ENOENT);
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, true, &p), 0);
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, false, &q), 0);
    CHECK(p == q);
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 0);
    struct evbuffer *eb = evbuffer_new();
    size_t n = 99;
    CHECK_EQ_INT(br_plog_read(s, p, 0, 1000, eb, &n), 0); /* empty log, at hw */
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(append(s, p, 5, 1000, -1), 0);
    CHECK_EQ_INT(append(s, p, 3, 2000, -1), 5);
    CHECK_EQ_INT(append(s, p, 10, 3000, -1), 8);
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 18);
    CHECK_EQ_INT(atomic_load(&p->log_start), 0);

    int bad = 0;
    for (int64_t off = 0; off < 18; off++) {
        int64_t end = 0;
        int want = off < 5 ? 3 : off < 8 ? 2 : 1;
        if (read_check(s, p, off, 1 << 20, &end) != want || end != 18)
            bad++;
        /* max_bytes 1: still one whole batch (KIP-74). */
        if (read_check(s, p, off, 1, NULL) != 1)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(br_plog_read(s, p, 18, 1000, eb, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(evbuffer_get_length(eb), 0);
    CHECK_EQ_INT(br_plog_read(s, p, 19, 1000, eb, &n), -ERANGE);
    CHECK_EQ_INT(br_plog_read(s, p, -1, 1000, eb, &n), -ERANGE);
    /* max_bytes that fits exactly the first two batches. */
    size_t sz2;
    CHECK_EQ_INT(br_plog_read(s, p, 0, 1 << 20, eb, &n), 0);
    size_t all = n;
    uint8_t *tmpb = malloc(tb_batch_cap(10, 50));
    size_t last = tb_batch(tmpb, 10, 3000, 50, 10);
    free(tmpb);
    sz2 = all - last;
    evbuffer_drain(eb, evbuffer_get_length(eb));
    CHECK_EQ_INT(br_plog_read(s, p, 0, sz2, eb, &n), 0);
    CHECK_EQ_INT(n, sz2);
    CHECK_EQ_INT(read_check(s, p, 0, sz2, NULL), 2);
    CHECK_EQ_INT(read_check(s, p, 0, sz2 - 1, NULL), 1);
    CHECK_EQ_INT(atomic_load(&p->bytes), (int64_t)all);
    evbuffer_free(eb);

    /* A second partition interleaves its keys with the first. */
    CHECK_EQ_INT(br_plog_open(s, topic_b, 7, true, &q), 0);
    CHECK(q->part_id != p->part_id);
    CHECK_EQ_INT(append(s, q, 2, 1, -1), 0);
    CHECK_EQ_INT(append(s, p, 1, 4000, -1), 18);
    CHECK_EQ_INT(read_check(s, q, 0, 1 << 20, NULL), 1);
    int64_t end = 0;
    CHECK_EQ_INT(read_check(s, p, 17, 1 << 20, &end), 2);
    CHECK_EQ_INT(end, 19);

    /* A bad payload writes nothing and keeps next_offset. */
    uint8_t junk[70] = {0};
    MDB_txn *txn;
    int64_t base;
    CHECK_EQ_INT(mdb_txn_begin(br_store_env(s), NULL, 0, &txn), 0);
    CHECK_EQ_INT(br_plog_append(s, txn, p, junk, sizeof junk, 0, -1, &base), -EINVAL);
    mdb_txn_abort(txn);
    CHECK_EQ_INT(p->next_offset, 19);
    br_store_close(s);
}

static int truncate_in_txn(br_store *s, br_part *p, int64_t new_start);

/* Big batches leave by reference to the map under a pin: the bytes stay
 * those of the snapshot while later commits delete and overwrite the log,
 * and past BR_STORE_PINS_MAX live pins reads fall back to copies. */
static void test_read_by_reference(void) {
    br_store *s = open_store("ref", false);
    br_part *p = NULL;
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, true, &p), 0);
    for (int i = 0; i < 4; i++) /* 10 x 2000-byte values: ~20 KB batches */
        CHECK_EQ_INT(append_sized(s, p, 10, 2000, 1000 * i, -1), 10 * i);
    struct evbuffer *held = evbuffer_new();
    size_t n = 0;
    CHECK_EQ_INT(br_plog_read(s, p, 0, 1 << 20, held, &n), 0);
    CHECK_EQ_INT(evbuffer_get_length(held), n);
    uint8_t *copy = malloc(n);
    CHECK_EQ_INT(evbuffer_copyout(held, copy, n), (int)n);
    /* Retention drops what was read; new batches reuse freed pages. */
    CHECK_EQ_INT(truncate_in_txn(s, p, 40), 0);
    for (int i = 0; i < 8; i++)
        CHECK(append_sized(s, p, 10, 2000, 9000 + i, -1) >= 40);
    uint8_t *now = malloc(n);
    CHECK_EQ_INT(evbuffer_copyout(held, now, n), (int)n);
    CHECK(memcmp(copy, now, n) == 0);
    evbuffer_free(held);
    free(now);
    free(copy);

    /* Every pin taken: reads still answer, by copy. */
    struct evbuffer *many[BR_STORE_PINS_MAX + 2];
    int bad = 0;
    for (int i = 0; i < BR_STORE_PINS_MAX + 2; i++) {
        many[i] = evbuffer_new();
        if (read_check(s, p, 40, 1 << 20, NULL) != 8)
            bad++;
        if (br_plog_read(s, p, 40 + i % 10, 1 << 20, many[i], &n) != 0 || n == 0)
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    for (int i = 0; i < BR_STORE_PINS_MAX + 2; i++)
        evbuffer_free(many[i]);
    /* ...and the pins come back. */
    br_pin *pin[BR_STORE_PINS_MAX];
    MDB_txn *txn;
    for (int i = 0; i < BR_STORE_PINS_MAX; i++)
        if (br_store_pin_begin(s, &pin[i], &txn) != 0)
            bad++;
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(br_store_pin_begin(s, &pin[0], &txn) == -EBUSY, 1);
    for (int i = 0; i < BR_STORE_PINS_MAX; i++)
        br_pin_unref(pin[i]);
    br_store_close(s);
}

static void list_cb(const uint8_t tid[16], int32_t partition, void *arg) {
    int *seen = arg;
    if (tid[0] == 0xaa && partition == 0)
        seen[0]++;
    else if (tid[0] == 0xbb && partition == 7)
        seen[1]++;
    else
        seen[2]++;
}

static void test_restart(void) {
    br_store *s = open_store("rs", true);
    br_part *p = NULL;
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, true, &p), 0);
    for (int i = 0; i < 4; i++)
        append(s, p, 1 + i, 100 * i, -1);
    int64_t bytes = atomic_load(&p->bytes);
    uint32_t id = p->part_id;
    br_part *q = NULL;
    CHECK_EQ_INT(br_plog_open(s, topic_b, 7, true, &q), 0);
    br_store_close(s);

    s = open_store("rs", false);
    p = NULL;
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, false, &p), 0);
    if (!p)
        return;
    CHECK_EQ_INT(p->part_id, id);
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 10);
    CHECK_EQ_INT(p->next_offset, 10);
    CHECK_EQ_INT(atomic_load(&p->log_start), 0);
    CHECK_EQ_INT(atomic_load(&p->bytes), bytes);
    int64_t end;
    CHECK_EQ_INT(read_check(s, p, 4, 1 << 20, &end), 2);
    CHECK_EQ_INT(end, 10);
    CHECK_EQ_INT(append(s, p, 2, 9, -1), 10);
    /* An empty partition survives too, and ids are not reused. */
    CHECK_EQ_INT(br_plog_open(s, topic_b, 7, false, &q), 0);
    CHECK_EQ_INT(atomic_load(&q->high_watermark), 0);
    br_part *r = NULL;
    CHECK_EQ_INT(br_plog_open(s, topic_b, 8, true, &r), 0);
    CHECK(r->part_id != p->part_id && r->part_id != q->part_id);
    int seen[3] = {0};
    CHECK_EQ_INT(br_plog_list(s, list_cb, seen), 0);
    CHECK_EQ_INT(seen[0], 1);
    CHECK_EQ_INT(seen[1], 1);
    CHECK_EQ_INT(seen[2], 1);
    br_store_close(s);
}

static void test_drop(void) {
    br_store *s = open_store("dr", false);
    br_part *p = NULL, *q = NULL;
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, true, &p), 0);
    CHECK_EQ_INT(br_plog_open(s, topic_b, 7, true, &q), 0);
    append(s, p, 3, 1, -1);
    append(s, q, 4, 1, -1);
    append(s, p, 3, 1, -1);
    uint32_t old = p->part_id;
    CHECK_EQ_INT(br_plog_drop(s, topic_a, 0), 0);
    CHECK_EQ_INT(br_plog_drop(s, topic_a, 0), -ENOENT);
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, false, &p), -ENOENT);
    int seen[3] = {0};
    CHECK_EQ_INT(br_plog_list(s, list_cb, seen), 0);
    CHECK_EQ_INT(seen[0], 0);
    CHECK_EQ_INT(seen[1], 1);
    CHECK_EQ_INT(read_check(s, q, 0, 1 << 20, NULL), 1);
    /* No log key of the dropped part is left. */
    MDB_txn *txn;
    MDB_cursor *cur;
    CHECK_EQ_INT(mdb_txn_begin(br_store_env(s), NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ_INT(mdb_cursor_open(txn, br_store_dbi(s, "log"), &cur), 0);
    MDB_val k, v;
    int left = 0, total = 0;
    while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        const uint8_t *kp = k.mv_data;
        uint32_t id = (uint32_t)kp[0] << 24 | (uint32_t)kp[1] << 16 | (uint32_t)kp[2] << 8 | kp[3];
        left += id == old;
        total++;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    CHECK_EQ_INT(left, 0);
    CHECK_EQ_INT(total, 1);
    /* Re-created: a new, empty log. */
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, true, &p), 0);
    CHECK(p->part_id != old);
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 0);
    br_store_close(s);
}

static int truncate_in_txn(br_store *s, br_part *p, int64_t start) {
    MDB_txn *txn;
    if (mdb_txn_begin(br_store_env(s), NULL, 0, &txn))
        abort();
    int r = br_plog_truncate_head(s, txn, p, start);
    if (r == 0)
        r = br_store_error(mdb_txn_commit(txn));
    else
        mdb_txn_abort(txn);
    return r;
}

static void test_truncate(void) {
    br_store *s = open_store("tr", false);
    br_part *p = NULL;
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, true, &p), 0);
    append(s, p, 5, 1000, -1); /* 0..4 */
    append(s, p, 3, 2000, -1); /* 5..7 */
    append(s, p, 10, 3000, -1); /* 8..17 */
    int64_t bytes = atomic_load(&p->bytes);
    CHECK_EQ_INT(truncate_in_txn(s, p, 0), 0); /* no-op */
    CHECK_EQ_INT(truncate_in_txn(s, p, 19), -ERANGE);
    CHECK_EQ_INT(truncate_in_txn(s, p, 6), 0);
    CHECK_EQ_INT(atomic_load(&p->log_start), 6);
    CHECK(atomic_load(&p->bytes) < bytes);
    struct evbuffer *eb = evbuffer_new();
    size_t n;
    CHECK_EQ_INT(br_plog_read(s, p, 5, 100, eb, &n), -ERANGE);
    evbuffer_free(eb);
    int64_t end;
    CHECK_EQ_INT(read_check(s, p, 6, 1 << 20, &end), 2); /* batch 5..7 still there */
    CHECK_EQ_INT(end, 18);
    int64_t off, ts;
    CHECK_EQ_INT(br_plog_offset_for_time(s, p, 0, &off, &ts), 0);
    CHECK_EQ_INT(off, 6);
    bytes = atomic_load(&p->bytes);
    br_store_close(s);

    s = open_store("tr", false);
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, false, &p), 0);
    CHECK_EQ_INT(atomic_load(&p->log_start), 6);
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 18);
    CHECK_EQ_INT(atomic_load(&p->bytes), bytes);
    /* Everything: log_start == hw, and the offsets carry on after restart. */
    CHECK_EQ_INT(truncate_in_txn(s, p, 18), 0);
    CHECK_EQ_INT(atomic_load(&p->bytes), 0);
    br_store_close(s);
    s = open_store("tr", false);
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, false, &p), 0);
    CHECK_EQ_INT(atomic_load(&p->log_start), 18);
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 18);
    eb = evbuffer_new();
    CHECK_EQ_INT(br_plog_read(s, p, 18, 100, eb, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(br_plog_read(s, p, 17, 100, eb, &n), -ERANGE);
    evbuffer_free(eb);
    CHECK_EQ_INT(br_plog_offset_for_time(s, p, 0, &off, &ts), 0);
    CHECK_EQ_INT(off, -1);
    CHECK_EQ_INT(append(s, p, 2, 5000, -1), 18);
    CHECK_EQ_INT(read_check(s, p, 19, 1 << 20, &end), 1);
    CHECK_EQ_INT(end, 20);
    br_store_close(s);
}

static void test_offset_for_time(void) {
    br_store *s = open_store("ot", false);
    br_part *p = NULL;
    CHECK_EQ_INT(br_plog_open(s, topic_a, 0, true, &p), 0);
    int64_t off = 0, ts = 0;
    CHECK_EQ_INT(br_plog_offset_for_time(s, p, 0, &off, &ts), 0);
    CHECK_EQ_INT(off, -1);
    CHECK_EQ_INT(ts, -1);
    append(s, p, 5, 1000, -1);  /* 0..4 at 1000..1004 */
    append(s, p, 3, 2000, -1);  /* 5..7 at 2000..2002 */
    append(s, p, 10, 3000, -1); /* 8..17 at 3000..3009 */
    append(s, p, 2, 100, 7000); /* 18..19, LogAppendTime 7000 */
    static const struct {
        int64_t ts, off, found;
    } cases[] = {
        {0, 0, 1000},     {1000, 0, 1000},  {1003, 3, 1003}, {1005, 5, 2000},
        {2002, 7, 2002},  {2500, 8, 3000},  {3005, 13, 3005}, {3009, 17, 3009},
        {3010, 18, 7000}, {7000, 18, 7000}, {7001, -1, -1},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (br_plog_offset_for_time(s, p, cases[i].ts, &off, &ts) != 0 || off != cases[i].off ||
            ts != cases[i].found) {
            fprintf(stderr, "ts %lld: got %lld/%lld\n", (long long)cases[i].ts, (long long)off,
                    (long long)ts);
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* The LogAppendTime batch is stored stamped. */
    struct evbuffer *eb = evbuffer_new();
    size_t n;
    CHECK_EQ_INT(br_plog_read(s, p, 19, 1 << 20, eb, &n), 0);
    kafka_batch b;
    CHECK_EQ_INT(kafka_batch_parse(evbuffer_pullup(eb, -1), n, &b), 0);
    CHECK(b.attributes & KAFKA_ATTR_TIMESTAMP_LOG_APPEND);
    CHECK_EQ_INT(b.max_timestamp, 7000);
    CHECK_EQ_INT(b.base_offset, 18);
    int nb;
    int64_t nr;
    CHECK_EQ_INT(kafka_records_validate(evbuffer_pullup(eb, -1), n, 0, &nb, &nr), 0);
    evbuffer_free(eb);
    br_store_close(s);
}

int main(void) {
    if (!unit_tmpdir(tmp, sizeof tmp, "test-plog")) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_append_read);
    RUN(test_read_by_reference);
    RUN(test_restart);
    RUN(test_drop);
    RUN(test_truncate);
    RUN(test_offset_for_time);
    unit_tmpdir_remove(tmp);
    return unit_done();
}
