/* plog_bench.c — append throughput through the committer.
 *
 * Keeps `inflight` submits outstanding (one ~64 KiB batch of 1 KiB records
 * each, spread over 8 partitions), resubmitting from the completion callback
 * on the loop, until `total` MiB are written; for sync and nosync stores.
 * Prints MB/s, commits/s and appends per commit.
 *
 *   plog_bench [total_mib (256)] [dir (a mkdtemp under /tmp)]  */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "batch_build.h"
#include "tmpdir.h"
#include "commit.h"

#define NPARTS 8
#define RECS_PER_BATCH 63 /* 63 x ~1 KiB + header: about 64 KiB */
#define VALUE_LEN 1000

struct slot {
    br_append item;
    uint8_t *buf;
};

struct run {
    br_committer *c;
    br_part *parts[NPARTS];
    struct slot *slots;
    size_t to_submit, outstanding;
    size_t next_part;
    int errors;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_done(br_append *items, size_t n, void *arg);

static void submit(struct run *r, struct slot *sl) {
    sl->item.part = r->parts[r->next_part++ % NPARTS];
    if (br_commit_submit(r->c, &sl->item, 1, on_done, r) < 0) {
        r->errors++;
        return;
    }
    r->to_submit--;
    r->outstanding++;
}

static void on_done(br_append *items, size_t n, void *arg) {
    struct run *r = arg;
    r->outstanding--;
    if (items[0].err)
        r->errors++;
    if (r->to_submit)
        submit(r, (struct slot *)items); /* item is the slot's first member */
}

static int bench(const char *dir, bool sync, size_t total_mib, size_t inflight) {
    br_store_opts o = {.dir = dir, .map_size = (total_mib + 256) << 20, .sync = sync};
    br_store *s;
    int rc = br_store_open(&o, &s);
    if (rc < 0) {
        fprintf(stderr, "open %s: %s\n", dir, strerror(-rc));
        return rc;
    }
    struct event_base *base = event_base_new();
    struct run r = {0};
    uint8_t tid[16] = {0xbe};
    for (int i = 0; i < NPARTS; i++)
        if ((rc = br_plog_open(s, tid, i, true, &r.parts[i])) < 0)
            return rc;
    br_committer_start(s, base, &r.c);
    r.slots = calloc(inflight, sizeof *r.slots);
    size_t blen = 0;
    for (size_t i = 0; i < inflight; i++) {
        r.slots[i].buf = malloc(tb_batch_cap(RECS_PER_BATCH, VALUE_LEN));
        blen = tb_batch(r.slots[i].buf, RECS_PER_BATCH, 1, VALUE_LEN, (uint8_t)i);
        r.slots[i].item = (br_append){.batches = r.slots[i].buf, .len = blen,
                                      .log_append_time = -1};
    }
    r.to_submit = (total_mib << 20) / blen;
    double t0 = now();
    for (size_t i = 0; i < inflight && r.to_submit; i++)
        submit(&r, &r.slots[i]);
    while (r.outstanding)
        event_base_loop(base, EVLOOP_ONCE);
    double dt = now() - t0;
    br_commit_stats st;
    br_committer_stats(r.c, &st);
    br_committer_stop(r.c);
    printf("%-6s inflight %3zu: %8.1f MB/s  %8.0f commits/s  %6.1f appends/commit  "
           "(%llu x %zu B in %.2f s, %d errors)\n",
           sync ? "sync" : "nosync", inflight, st.bytes / dt / 1e6, st.commits / dt,
           st.commits ? (double)st.appends / st.commits : 0.0,
           (unsigned long long)st.appends, blen, dt, r.errors);
    for (size_t i = 0; i < inflight; i++)
        free(r.slots[i].buf);
    free(r.slots);
    br_store_close(s);
    event_base_free(base);
    return r.errors ? -EIO : 0;
}

int main(int argc, char **argv) {
    size_t total = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    char tmpl[64];
    const char *root = argc > 2 ? argv[2] : unit_tmpdir(tmpl, sizeof tmpl, "plog-bench");
    if (!root || total == 0) {
        fprintf(stderr, "usage: plog_bench [total_mib] [dir]\n");
        return 2;
    }
    evthread_use_pthreads();
    static const size_t inflights[] = {1, 16, 128};
    int fails = 0;
    for (int sync = 1; sync >= 0; sync--) {
        for (size_t i = 0; i < sizeof inflights / sizeof inflights[0]; i++) {
            char dir[512];
            snprintf(dir, sizeof dir, "%s/%s-%zu", root, sync ? "sync" : "nosync", inflights[i]);
            /* One inflight in sync mode is one fsync per 64 KiB: keep it short. */
            size_t mib = inflights[i] == 1 && sync ? (total < 32 ? total : 32) : total;
            fails += bench(dir, sync, mib, inflights[i]) < 0;
            unit_tmpdir_remove(dir);
        }
    }
    if (argc <= 2)
        unit_tmpdir_remove(root);
    return fails ? 1 : 0;
}
