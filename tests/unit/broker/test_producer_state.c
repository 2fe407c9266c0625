/* test_producer_state.c — idempotent producers: the rules (duplicates of the
 * last five batches, gaps, epochs, unknown producers, sequence wrap,
 * expiry), the stored form, and the state written in the group commit with
 * the append: a duplicate keeps its original offset and appends nothing,
 * even inside one group and after a restart; refusals write nothing. Also
 * the controller's producer id blocks across a restart. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "batch_build.h"
#include "commit.h"
#include "crc32c.h"
#include "kafka_records.h"
#include "plog_copy.h"
#include "producer_state.h"
#include "server.h"
#include "unit.h"

static char tmp[64];
static struct event_base *base;

/* ---- the rules ---- */

static void test_rules(void) {
    br_prod_entry e;
    int64_t dup = -1;
    /* unknown producer: any sequence (KIP-360), bad fields refused */
    CHECK_EQ_INT(br_prod_check(NULL, 0, 0, 4, &dup), BR_PROD_APPEND);
    CHECK_EQ_INT(br_prod_check(NULL, 0, 17, 20, &dup), BR_PROD_APPEND);
    CHECK_EQ_INT(br_prod_check(NULL, -1, 0, 0, &dup), BR_PROD_INVALID);
    CHECK_EQ_INT(br_prod_check(NULL, 0, -1, 0, &dup), BR_PROD_INVALID);

    br_prod_record(&e, false, 3, 0, 4, 100, 5000, 1000);
    CHECK_EQ_INT(e.epoch, 3);
    CHECK_EQ_INT(e.n, 1);
    /* in sequence, then a duplicate of it */
    CHECK_EQ_INT(br_prod_check(&e, 3, 5, 9, &dup), BR_PROD_APPEND);
    CHECK_EQ_INT(br_prod_check(&e, 3, 0, 4, &dup), BR_PROD_DUPLICATE);
    CHECK_EQ_INT(dup, 100);
    /* a gap, a same-start batch of another length, an overlap */
    CHECK_EQ_INT(br_prod_check(&e, 3, 6, 9, &dup), BR_PROD_OUT_OF_ORDER);
    CHECK_EQ_INT(br_prod_check(&e, 3, 0, 5, &dup), BR_PROD_OUT_OF_ORDER);
    CHECK_EQ_INT(br_prod_check(&e, 3, 3, 7, &dup), BR_PROD_OUT_OF_ORDER);
    /* epochs: older refused, newer must start at 0 */
    CHECK_EQ_INT(br_prod_check(&e, 2, 5, 9, &dup), BR_PROD_STALE_EPOCH);
    CHECK_EQ_INT(br_prod_check(&e, 4, 5, 9, &dup), BR_PROD_OUT_OF_ORDER);
    CHECK_EQ_INT(br_prod_check(&e, 4, 0, 0, &dup), BR_PROD_APPEND);

    /* only the last five batches are remembered */
    for (int i = 1; i <= 6; i++)
        br_prod_record(&e, true, 3, i * 5, i * 5 + 4, 100 + i * 5, 5000 + i, 1000 + i);
    CHECK_EQ_INT(e.n, BR_PRODUCER_BATCHES);
    CHECK_EQ_INT(e.batches[0].first_seq, 10);
    CHECK_EQ_INT(e.last_timestamp, 5006);
    CHECK_EQ_INT(br_prod_check(&e, 3, 10, 14, &dup), BR_PROD_DUPLICATE);
    CHECK_EQ_INT(dup, 110);
    CHECK_EQ_INT(br_prod_check(&e, 3, 30, 34, &dup), BR_PROD_DUPLICATE);
    CHECK_EQ_INT(dup, 130);
    /* older than the five: no longer provable, refused as Kafka does */
    CHECK_EQ_INT(br_prod_check(&e, 3, 5, 9, &dup), BR_PROD_OUT_OF_ORDER);
    CHECK_EQ_INT(br_prod_check(&e, 3, 35, 35, &dup), BR_PROD_APPEND);

    /* a new epoch resets what is remembered */
    br_prod_record(&e, true, 4, 0, 0, 500, 1, 2000);
    CHECK_EQ_INT(e.n, 1);
    CHECK_EQ_INT(e.epoch, 4);
    CHECK_EQ_INT(br_prod_check(&e, 4, 1, 1, &dup), BR_PROD_APPEND);

    /* sequences wrap from INT32_MAX to 0 */
    CHECK_EQ_INT(br_prod_last_seq(INT32_MAX - 1, 3), 1);
    CHECK_EQ_INT(br_prod_last_seq(10, 0), 10);
    br_prod_record(&e, true, 4, INT32_MAX - 2, INT32_MAX, 600, 1, 2001);
    CHECK_EQ_INT(br_prod_check(&e, 4, 0, 3, &dup), BR_PROD_APPEND);
    CHECK_EQ_INT(br_prod_check(&e, 4, 1, 3, &dup), BR_PROD_OUT_OF_ORDER);

    /* expiry after producer.id.expiration.ms of silence */
    CHECK(!br_prod_expired(&e, 2001 + BR_PRODUCER_ID_EXPIRATION_MS - 1,
                           BR_PRODUCER_ID_EXPIRATION_MS));
    CHECK(br_prod_expired(&e, 2001 + BR_PRODUCER_ID_EXPIRATION_MS, BR_PRODUCER_ID_EXPIRATION_MS));
}

static void test_encoding(void) {
    br_prod_entry e = {0}, d;
    for (int i = 0; i < 7; i++)
        br_prod_record(&e, i > 0, -2 + 32000, i * 3, i * 3 + 2, (int64_t)1 << 40 | i, -5, 77);
    uint8_t buf[BR_PROD_VALUE_MAX];
    size_t len = br_prod_encode(&e, buf);
    CHECK_EQ_INT(len, 24 + 16 * BR_PRODUCER_BATCHES);
    CHECK_EQ_INT(br_prod_decode(buf, len, &d), 0);
    CHECK_EQ_INT(d.epoch, e.epoch);
    CHECK_EQ_INT(d.n, e.n);
    CHECK_EQ_INT(d.last_write_ms, 77);
    CHECK_EQ_INT(d.last_timestamp, -5);
    CHECK_MEM(d.batches, e.batches, sizeof e.batches);
    /* damaged values are refused */
    CHECK_EQ_INT(br_prod_decode(buf, len - 1, &d), -EIO);
    buf[0] = 9;
    CHECK_EQ_INT(br_prod_decode(buf, len, &d), -EIO);
    buf[0] = 1;
    buf[20] = 6;
    CHECK_EQ_INT(br_prod_decode(buf, len, &d), -EIO);
}

/* ---- in the group commit ---- */

/* A batch of @p nrec records from producer @p pid / @p epoch, first
 * sequence @p seq (malloc'd; *len gets its length). */
static uint8_t *idem_batch(int nrec, int64_t pid, int16_t epoch, int32_t seq, size_t *len) {
    uint8_t *b = malloc(tb_batch_cap(nrec, 8));
    if (!b)
        abort();
    *len = tb_batch(b, nrec, 1000, 8, 'x');
    tb_put_be(b + 43, (uint64_t)pid, 8);
    tb_put_be(b + 51, (uint16_t)epoch, 2);
    tb_put_be(b + 53, (uint32_t)seq, 4);
    tb_put_be(b + 17, crc32c(0, b + 21, *len - 21), 4);
    return b;
}

static int completed;

static void on_commit(br_append *items, size_t n, void *arg) {
    completed++;
    event_base_loopbreak(base);
}

/* Append @p items in one group; returns when the callback ran. */
static void run(br_committer *c, br_append *items, size_t n) {
    int before = completed;
    CHECK_EQ_INT(br_commit_submit(c, items, n, on_commit, NULL), 0);
    while (completed == before)
        event_base_loop(base, EVLOOP_ONCE);
}

/* One idempotent batch; returns base offset, or -1000 - verdict if refused. */
static int64_t produce(br_committer *c, br_part *p, int nrec, int64_t pid, int16_t epoch,
                       int32_t seq) {
    size_t len;
    uint8_t *b = idem_batch(nrec, pid, epoch, seq, &len);
    br_append it = {.part = p, .batches = b, .len = len, .leader_epoch = 0,
                    .log_append_time = -1};
    run(c, &it, 1);
    free(b);
    if (it.err == -EPROTO)
        return -1000 - it.producer;
    CHECK_EQ_INT(it.err, 0);
    return it.base_offset;
}

static br_store *open_store(void) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/store", tmp);
    br_store_opts o = {.dir = dir, .map_size = 64 << 20, .sync = false};
    br_store *s = NULL;
    if (br_store_open(&o, &s) < 0 || br_producers_open(s) < 0)
        abort();
    return s;
}

struct seen {
    int n;
    int64_t pid[4];
    int16_t epoch[4];
    int32_t last_seq[4];
};

static void on_producer(int64_t pid, const br_prod_entry *e, void *arg) {
    struct seen *s = arg;
    if (s->n < 4) {
        s->pid[s->n] = pid;
        s->epoch[s->n] = e->epoch;
        s->last_seq[s->n] = e->batches[e->n - 1].last_seq;
    }
    s->n++;
}

static const uint8_t TID[16] = {1, 2, 3};

static void test_commit_path(void) {
    br_store *s = open_store();
    br_committer *c;
    CHECK_EQ_INT(br_committer_start(s, base, &c), 0);
    br_part *p;
    CHECK_EQ_INT(br_plog_open(s, TID, 0, true, &p), 0);

    CHECK_EQ_INT(produce(c, p, 5, 7, 0, 0), 0);        /* seq 0-4 -> 0..4 */
    CHECK_EQ_INT(produce(c, p, 5, 7, 0, 5), 5);        /* seq 5-9 -> 5..9 */
    CHECK_EQ_INT(produce(c, p, 5, 7, 0, 0), 0);        /* resent: original offset */
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 10); /* and nothing appended */
    int64_t bytes = atomic_load(&p->bytes);
    CHECK_EQ_INT(produce(c, p, 5, 7, 0, 5), 5);
    CHECK_EQ_INT(atomic_load(&p->bytes), bytes);
    CHECK_EQ_INT(produce(c, p, 1, 7, 0, 11), -1000 - BR_PROD_OUT_OF_ORDER); /* gap */
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 10);
    /* a plain batch between them is not affected */
    CHECK_EQ_INT(produce(c, p, 2, -1, -1, -1), 10);
    /* another producer, starting anywhere (no state) */
    CHECK_EQ_INT(produce(c, p, 1, 9, 2, 40), 12);
    /* epoch bump, then the old epoch is fenced */
    CHECK_EQ_INT(produce(c, p, 1, 7, 1, 0), 13);
    CHECK_EQ_INT(produce(c, p, 1, 7, 0, 10), -1000 - BR_PROD_STALE_EPOCH);

    /* two batches of one producer in one group: the second sees the first */
    size_t l1, l2, l3;
    uint8_t *b1 = idem_batch(3, 7, 1, 1, &l1), *b2 = idem_batch(3, 7, 1, 1, &l2),
            *b3 = idem_batch(2, 7, 1, 4, &l3);
    br_append g[3] = {
        {.part = p, .batches = b1, .len = l1, .log_append_time = -1},
        {.part = p, .batches = b2, .len = l2, .log_append_time = -1},
        {.part = p, .batches = b3, .len = l3, .log_append_time = -1},
    };
    run(c, g, 3);
    CHECK_EQ_INT(g[0].err, 0);
    CHECK_EQ_INT(g[0].base_offset, 14);
    CHECK_EQ_INT(g[1].err, 0);
    CHECK_EQ_INT(g[1].producer, BR_PROD_DUPLICATE);
    CHECK_EQ_INT(g[1].base_offset, 14);
    CHECK_EQ_INT(g[2].base_offset, 17);
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 19);
    free(b1);
    free(b2);
    free(b3);

    /* two batches in one partition's data from one producer: refused */
    uint8_t *two = malloc(2 * tb_batch_cap(1, 8));
    size_t la, lb;
    uint8_t *x = idem_batch(1, 7, 1, 6, &la), *y = idem_batch(1, 7, 1, 7, &lb);
    memcpy(two, x, la);
    memcpy(two + la, y, lb);
    br_append t2 = {.part = p, .batches = two, .len = la + lb, .log_append_time = -1};
    run(c, &t2, 1);
    CHECK_EQ_INT(t2.err, -EPROTO);
    CHECK_EQ_INT(t2.producer, BR_PROD_INVALID);
    free(two);
    free(x);
    free(y);

    struct seen sn = {0};
    MDB_txn *txn;
    CHECK_EQ_INT(br_store_read_begin(s, &txn), 0);
    CHECK_EQ_INT(br_producers_list(s, txn, p->part_id, br_now_ms(), on_producer, &sn), 0);
    br_store_read_end(s, txn);
    CHECK_EQ_INT(sn.n, 2);
    CHECK_EQ_INT(sn.pid[0], 7);
    CHECK_EQ_INT(sn.epoch[0], 1);
    CHECK_EQ_INT(sn.last_seq[0], 5);
    CHECK_EQ_INT(sn.pid[1], 9);
    CHECK_EQ_INT(sn.last_seq[1], 40);
    /* long after: expired, not listed */
    sn.n = 0;
    CHECK_EQ_INT(br_store_read_begin(s, &txn), 0);
    CHECK_EQ_INT(br_producers_list(s, txn, p->part_id, br_now_ms() + BR_PRODUCER_ID_EXPIRATION_MS,
                                   on_producer, &sn), 0);
    br_store_read_end(s, txn);
    CHECK_EQ_INT(sn.n, 0);

    /* restart: the state comes back with the log */
    br_committer_stop(c);
    br_store_close(s);
    s = open_store();
    CHECK_EQ_INT(br_committer_start(s, base, &c), 0);
    CHECK_EQ_INT(br_plog_open(s, TID, 0, false, &p), 0);
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 19);
    CHECK_EQ_INT(produce(c, p, 2, 7, 1, 4), 17);                           /* duplicate */
    CHECK_EQ_INT(produce(c, p, 1, 7, 1, 7), -1000 - BR_PROD_OUT_OF_ORDER); /* gap */
    CHECK_EQ_INT(produce(c, p, 1, 7, 1, 6), 19);                           /* next */
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 20);
    br_committer_stop(c);
    br_store_close(s);
}

/* A partition move: the target stores the owner's batches as they are
 * (plog_copy.h) and rebuilds the producers' state from them, so a batch
 * resent after the move is still a duplicate and a gap still refused. */
static const uint8_t TID2[16] = {4, 5, 6};

static void test_replay(void) {
    br_store *s = open_store();
    br_part *p;
    CHECK_EQ_INT(br_plog_open(s, TID2, 0, true, &p), 0);
    size_t l1, l2, l3;
    uint8_t *b1 = idem_batch(3, 7, 0, 0, &l1), *b2 = idem_batch(2, -1, -1, -1, &l2),
            *b3 = idem_batch(2, 7, 0, 3, &l3);
    tb_put_be(b2, 3, 8); /* base offsets as the owner assigned them */
    tb_put_be(b3, 5, 8);
    uint8_t *copy = malloc(l1 + l2 + l3);
    memcpy(copy, b1, l1);
    memcpy(copy + l1, b2, l2);
    memcpy(copy + l1 + l2, b3, l3);
    size_t len = l1 + l2 + l3;
    MDB_txn *txn;
    CHECK_EQ_INT(mdb_txn_begin(br_store_env(s), NULL, 0, &txn), 0);
    int64_t end = 0, bytes = 0;
    CHECK_EQ_INT(br_plog_put_copied(s, txn, p, copy, len, 0, -1, &end, &bytes), 0);
    CHECK_EQ_INT(br_producers_replay(s, txn, p->part_id, copy, len, br_now_ms()), 0);
    CHECK_EQ_INT(mdb_txn_commit(txn), 0);
    br_plog_copy_publish(p, end, bytes, -1);
    CHECK_EQ_INT(end, 7);

    br_committer *c;
    CHECK_EQ_INT(br_committer_start(s, base, &c), 0);
    CHECK_EQ_INT(produce(c, p, 2, 7, 0, 3), 5);                            /* resent */
    CHECK_EQ_INT(produce(c, p, 3, 7, 0, 0), 0);                            /* resent */
    CHECK_EQ_INT(produce(c, p, 1, 7, 0, 9), -1000 - BR_PROD_OUT_OF_ORDER); /* gap */
    CHECK_EQ_INT(produce(c, p, 1, 7, 1, 4), -1000 - BR_PROD_OUT_OF_ORDER); /* new epoch, seq 4 */
    CHECK_EQ_INT(produce(c, p, 1, 7, 0, 5), 7);                            /* next */
    CHECK_EQ_INT(atomic_load(&p->high_watermark), 8);
    br_committer_stop(c);
    br_store_close(s);
    free(copy);
    free(b1);
    free(b2);
    free(b3);
}

static void test_producer_ids(void) {
    br_store *s = open_store();
    br_producer_ids ids = {0};
    int64_t id, first;
    int16_t ep;
    CHECK_EQ_INT(br_producer_ids_alloc(s, &ids, -1, -1, &first, &ep), 0);
    CHECK_EQ_INT(ep, 0);
    CHECK_EQ_INT(br_producer_ids_alloc(s, &ids, -1, -1, &id, &ep), 0);
    CHECK_EQ_INT(id, first + 1);
    /* KIP-360 bump of a known id; an unknown id or exhausted epoch: new id */
    CHECK_EQ_INT(br_producer_ids_alloc(s, &ids, first, 4, &id, &ep), 0);
    CHECK_EQ_INT(id, first);
    CHECK_EQ_INT(ep, 5);
    CHECK_EQ_INT(br_producer_ids_alloc(s, &ids, first + 500, 0, &id, &ep), 0);
    CHECK_EQ_INT(id, first + 2);
    CHECK_EQ_INT(ep, 0);
    CHECK_EQ_INT(br_producer_ids_alloc(s, &ids, first, 32766, &id, &ep), 0);
    CHECK_EQ_INT(id, first + 3);
    for (int i = 0; i < BR_PRODUCER_ID_BLOCK + 10; i++)
        CHECK_EQ_INT(br_producer_ids_alloc(s, &ids, -1, -1, &id, &ep), 0);
    int64_t last = id;
    br_store_close(s);
    /* after a restart (or a crash): never an id given before */
    s = open_store();
    br_producer_ids again = {0};
    CHECK_EQ_INT(br_producer_ids_alloc(s, &again, -1, -1, &id, &ep), 0);
    CHECK(id > last);
    br_store_close(s);
}

int main(void) {
    if (!unit_tmpdir(tmp, sizeof tmp, "test-producers")) {
        perror("mkdtemp");
        return 1;
    }
    evthread_use_pthreads();
    base = event_base_new();
    RUN(test_rules);
    RUN(test_encoding);
    RUN(test_commit_path);
    RUN(test_replay);
    RUN(test_producer_ids);
    event_base_free(base);
    unit_tmpdir_remove(tmp);
    return unit_done();
}
