/* test_commit.c — group commit: completions on the loop thread, offsets in
 * submit order, LogAppendTime, fn jobs, a full map giving -ENOSPC. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "batch_build.h"
#include "commit.h"
#include "kafka_records.h"
#include "unit.h"

static char tmp[64];
static pthread_t loop_thread;
static struct event_base *base;

static br_store *open_store(const char *sub, size_t map, bool sync) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", tmp, sub);
    br_store_opts o = {.dir = dir, .map_size = map, .sync = sync};
    br_store *s = NULL;
    if (br_store_open(&o, &s) < 0)
        abort();
    return s;
}

/* One submit: its items, their batches, and what the callback saw. */
struct sub {
    br_append items[3];
    uint8_t *bufs[3];
    int nrec[3];
    size_t n;
    int done;        /* callback count */
    int wrong_thread;
};

static int completed;
static int target;

static void on_commit(br_append *items, size_t n, void *arg) {
    struct sub *sb = arg;
    sb->done++;
    if (!pthread_equal(pthread_self(), loop_thread))
        sb->wrong_thread++;
    if (items != sb->items || n != sb->n)
        sb->wrong_thread++;
    completed++;
    if (completed >= target)
        event_base_loopbreak(base);
}

static void on_deadline(evutil_socket_t fd, short w, void *arg) {
    *(int *)arg = 1;
    event_base_loopbreak(base);
}

/* Run the loop until @p want completions arrived or 60 s passed. */
static int wait_for(int want) {
    target = want;
    int timed_out = 0;
    struct timeval tv = {60, 0};
    struct event *dl = evtimer_new(base, on_deadline, &timed_out);
    evtimer_add(dl, &tv);
    while (completed < target && !timed_out)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(dl);
    return timed_out ? -ETIMEDOUT : 0;
}

static void fill(struct sub *sb, br_part **parts, int np, int i, size_t value_len) {
    sb->n = 1 + (size_t)(i % 3);
    for (size_t k = 0; k < sb->n; k++) {
        int nrec = 1 + (i + (int)k) % 4;
        sb->bufs[k] = malloc(tb_batch_cap(nrec, value_len));
        size_t len = tb_batch(sb->bufs[k], nrec, 1000 + i, value_len, (uint8_t)i);
        sb->nrec[k] = nrec;
        sb->items[k] = (br_append){.part = parts[(i + (int)k * 3) % np],
                                   .batches = sb->bufs[k],
                                   .len = len,
                                   .leader_epoch = 1,
                                   .log_append_time = -1};
    }
}

static void free_subs(struct sub *subs, int n) {
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < subs[i].n; k++)
            free(subs[i].bufs[k]);
    free(subs);
}

/* Offsets per part: in submit order, contiguous, hw at the end. */
static int check_offsets(struct sub *subs, int n, br_part **parts, int np, bool skip_failed) {
    int bad = 0;
    for (int pi = 0; pi < np; pi++) {
        int64_t next = 0;
        for (int i = 0; i < n; i++) {
            for (size_t k = 0; k < subs[i].n; k++) {
                br_append *it = &subs[i].items[k];
                if (it->part != parts[pi] || (skip_failed && it->err))
                    continue;
                if (it->err || it->base_offset != next)
                    bad++;
                next += subs[i].nrec[k];
            }
        }
        if (atomic_load(&parts[pi]->high_watermark) != next)
            bad++;
    }
    return bad;
}

struct fnjob {
    const char *key;
    int ret;
    int calls, done, err;
};

static int fn_write(MDB_txn *txn, void *arg) {
    struct fnjob *f = arg;
    f->calls++;
    (void)txn;
    return f->ret;
}

static void fn_done(int err, void *arg) {
    struct fnjob *f = arg;
    f->done++;
    f->err = err;
    completed++;
    if (completed >= target)
        event_base_loopbreak(base);
}

static br_store *fn_store;
static int fn_put(MDB_txn *txn, void *arg) {
    struct fnjob *f = arg;
    f->calls++;
    MDB_val k = {strlen(f->key), (void *)f->key}, v = {1, "x"};
    int rc = mdb_put(txn, br_store_dbi(fn_store, "meta"), &k, &v, 0);
    return rc ? br_store_error(rc) : f->ret;
}

static void test_many_submits(void) {
    br_store *s = open_store("many", 256 << 20, false);
    br_part *parts[4];
    uint8_t tid[16] = {1};
    for (int i = 0; i < 4; i++) {
        tid[1] = (uint8_t)i;
        if (br_plog_open(s, tid, i, true, &parts[i]) < 0)
            abort();
    }
    br_committer *c = NULL;
    CHECK_EQ_INT(br_committer_start(s, base, &c), 0);
    enum { N = 500 };
    struct sub *subs = calloc(N, sizeof *subs);
    completed = 0;
    int bad = 0;
    for (int i = 0; i < N; i++) {
        fill(&subs[i], parts, 4, i, 100);
        if (i % 50 == 7)
            subs[i].items[0].log_append_time = 424242;
        if (br_commit_submit(c, subs[i].items, subs[i].n, on_commit, &subs[i]) < 0)
            bad++;
        /* Let some complete while others are still being submitted. */
        if (i % 100 == 99)
            event_base_loop(base, EVLOOP_NONBLOCK);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(br_commit_submit(c, subs[0].items, 0, on_commit, NULL), -EINVAL);
    CHECK_EQ_INT(wait_for(N), 0);
    int wrong = 0, twice = 0;
    for (int i = 0; i < N; i++) {
        wrong += subs[i].wrong_thread;
        twice += subs[i].done != 1;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(twice, 0);
    CHECK_EQ_INT(check_offsets(subs, N, parts, 4, false), 0);

    /* Stamped batches read back stamped, others untouched. */
    int stamped = 0, plain = 0;
    for (int i = 0; i < N; i++) {
        struct evbuffer *eb = evbuffer_new();
        size_t n = 0;
        br_append *it = &subs[i].items[0];
        if (br_plog_read(s, it->part, it->base_offset, 1, eb, &n) == 0 && n == it->len) {
            kafka_batch b;
            kafka_batch_parse(evbuffer_pullup(eb, -1), n, &b);
            int nb;
            int64_t nr;
            bool ok = kafka_records_validate(evbuffer_pullup(eb, -1), n, 0, &nb, &nr) == 0 &&
                      b.base_offset == it->base_offset;
            if (ok && it->log_append_time >= 0 && (b.attributes & KAFKA_ATTR_TIMESTAMP_LOG_APPEND) &&
                b.max_timestamp == 424242)
                stamped++;
            if (ok && it->log_append_time < 0 && !(b.attributes & KAFKA_ATTR_TIMESTAMP_LOG_APPEND))
                plain++;
        }
        evbuffer_free(eb);
    }
    CHECK_EQ_INT(stamped, N / 50);
    CHECK_EQ_INT(plain, N - N / 50);

    br_commit_stats st;
    br_committer_stats(c, &st);
    CHECK(st.commits >= 1 && st.commits <= N);
    fprintf(stderr, "  %d submits in %llu group commits\n", N, (unsigned long long)st.commits);
    int items = 0;
    for (int i = 0; i < N; i++)
        items += (int)subs[i].n;
    CHECK_EQ_INT(st.appends, items);
    br_committer_stop(c);
    free_subs(subs, N);
    br_store_close(s);
}

static void test_fn_jobs(void) {
    br_store *s = open_store("fn", 64 << 20, true);
    fn_store = s;
    br_part *p;
    uint8_t tid[16] = {2};
    if (br_plog_open(s, tid, 0, true, &p) < 0)
        abort();
    br_committer *c = NULL;
    CHECK_EQ_INT(br_committer_start(s, base, &c), 0);
    struct fnjob ok = {.key = "fn.ok"}, fail = {.key = "fn.fail", .ret = -EPERM},
                 plain = {.key = "fn.plain"};
    struct sub sb = {0};
    fill(&sb, &p, 1, 4, 10);
    completed = 0;
    CHECK_EQ_INT(br_commit_submit_fn(c, fn_put, fn_done, &ok), 0);
    CHECK_EQ_INT(br_commit_submit_fn(c, fn_put, fn_done, &fail), 0);
    CHECK_EQ_INT(br_commit_submit(c, sb.items, sb.n, on_commit, &sb), 0);
    CHECK_EQ_INT(br_commit_submit_fn(c, fn_write, fn_done, &plain), 0);
    CHECK_EQ_INT(br_commit_submit_fn(c, NULL, fn_done, &plain), -EINVAL);
    CHECK_EQ_INT(wait_for(4), 0);
    CHECK_EQ_INT(ok.done, 1);
    CHECK_EQ_INT(ok.err, 0);
    CHECK_EQ_INT(fail.done, 1);
    CHECK_EQ_INT(fail.err, -EPERM);
    CHECK_EQ_INT(plain.err, 0);
    CHECK_EQ_INT(sb.done, 1);
    CHECK_EQ_INT(sb.items[0].err, 0);
    void *v = NULL;
    size_t n;
    CHECK_EQ_INT(br_store_meta_get(s, "fn.ok", &v, &n), 0);
    free(v);
    CHECK_EQ_INT(br_store_meta_get(s, "fn.fail", &v, &n), -ENOENT);

    /* Stop with work still queued: it is committed, callbacks run in stop. */
    struct sub more[5];
    memset(more, 0, sizeof more);
    completed = 0;
    for (int i = 0; i < 5; i++) {
        fill(&more[i], &p, 1, i, 10);
        br_commit_submit(c, more[i].items, more[i].n, on_commit, &more[i]);
    }
    br_committer_stop(c);
    int done = 0;
    for (int i = 0; i < 5; i++)
        done += more[i].done == 1 && more[i].items[0].err == 0 && more[i].wrong_thread == 0;
    CHECK_EQ_INT(done, 5);
    for (int i = 0; i < 5; i++)
        for (size_t k = 0; k < more[i].n; k++)
            free(more[i].bufs[k]);
    for (size_t k = 0; k < sb.n; k++)
        free(sb.bufs[k]);
    br_store_close(s);
}

static void test_map_full(void) {
    br_store *s = open_store("full", 1 << 20, false);
    br_part *parts[2];
    uint8_t tid[16] = {3};
    for (int i = 0; i < 2; i++)
        if (br_plog_open(s, tid, i, true, &parts[i]) < 0)
            abort();
    br_committer *c = NULL;
    CHECK_EQ_INT(br_committer_start(s, base, &c), 0);
    enum { N = 40 };
    struct sub *subs = calloc(N, sizeof *subs);
    completed = 0;
    for (int i = 0; i < N; i++) {
        /* ~16..64 KiB per item: 1 MiB fills up within the first submits. */
        fill(&subs[i], parts, 2, i, 16000);
        br_commit_submit(c, subs[i].items, subs[i].n, on_commit, &subs[i]);
    }
    CHECK_EQ_INT(wait_for(N), 0);
    int ok = 0, full = 0, other = 0;
    for (int i = 0; i < N; i++) {
        for (size_t k = 0; k < subs[i].n; k++) {
            int e = subs[i].items[k].err;
            ok += e == 0;
            full += e == -ENOSPC;
            other += e != 0 && e != -ENOSPC;
            if (e && subs[i].items[k].base_offset != -1)
                other++;
        }
    }
    CHECK(ok > 0);
    CHECK(full > 0);
    CHECK_EQ_INT(other, 0);
    fprintf(stderr, "  1 MiB map: %d items committed, %d got -ENOSPC\n", ok, full);
    CHECK_EQ_INT(check_offsets(subs, N, parts, 2, true), 0);
    /* Still readable: every committed batch comes back. */
    int readable = 0;
    for (int pi = 0; pi < 2; pi++) {
        int64_t off = 0, hw = atomic_load(&parts[pi]->high_watermark);
        while (off < hw) {
            struct evbuffer *eb = evbuffer_new();
            size_t n = 0;
            if (br_plog_read(s, parts[pi], off, 1, eb, &n) != 0 || n == 0) {
                evbuffer_free(eb);
                break;
            }
            kafka_batch b;
            kafka_batch_parse(evbuffer_pullup(eb, -1), n, &b);
            off = b.base_offset + b.last_offset_delta + 1;
            readable++;
            evbuffer_free(eb);
        }
    }
    CHECK_EQ_INT(readable, ok);
    /* A small write still goes through or fails cleanly, never hangs. */
    struct fnjob plain = {.key = "x"};
    completed = 0;
    CHECK_EQ_INT(br_commit_submit_fn(c, fn_write, fn_done, &plain), 0);
    CHECK_EQ_INT(wait_for(1), 0);
    CHECK_EQ_INT(plain.done, 1);
    br_committer_stop(c);
    free_subs(subs, N);
    br_store_close(s);
}

int main(void) {
    if (!unit_tmpdir(tmp, sizeof tmp, "test-commit")) {
        perror("mkdtemp");
        return 1;
    }
    evthread_use_pthreads();
    base = event_base_new();
    loop_thread = pthread_self();
    RUN(test_many_submits);
    RUN(test_fn_jobs);
    RUN(test_map_full);
    event_base_free(base);
    unit_tmpdir_remove(tmp);
    return unit_done();
}
