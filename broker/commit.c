/* commit.c — group commit on one writer thread (see commit.h).
 *
 * The loop thread queues jobs under a mutex; the writer takes what is
 * queued, writes it all in one LMDB transaction, commits (one fdatasync in
 * sync mode), publishes the new high watermarks and hands the finished jobs
 * back through a "done" list and one event_active() on the loop.
 *
 * LMDB marks a write transaction unusable after a failed put (MDB_MAP_FULL
 * above all), so an item that fails cannot simply be skipped: the group is
 * aborted, next offsets are rolled back, and the group is replayed without
 * the failed item. Failures are rare, so the common path pays nothing. */
#include "commit.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "producer_state.h"

/* Bytes of appends taken into one transaction at most (at least one job is
 * always taken). Small on purpose: per byte, a large group costs more than
 * a small one. Measured with 1 MiB produce batches on the 2-core VM
 * (docs/performance.md): groups averaging 1.1-1.2 MB cost the brokers about
 * half the CPU per GB of groups averaging 1.3-1.8 MB (most of it the kernel
 * copying LMDB's dirty pages into the page cache at commit), and a 64 MiB
 * cap let groups grow under load, which slowed commits, which grew groups.
 * With fsync (sync) 1-4 MiB caps did as well as 64 MiB with 5-9 MB groups
 * or better, the fsync per group notwithstanding. */
#define GROUP_MAX_BYTES ((size_t)2 << 20)

struct job {
    struct job *next;
    /* append job */
    br_append *items;
    size_t n;
    br_commit_cb cb;
    void *arg;
    /* function job (fn != NULL) */
    int (*fn)(MDB_txn *txn, void *arg);
    void (*done)(int err, void *arg);
    int fn_err;
    size_t bytes;
    int64_t saved[]; /* next_offset of each item's part before its append */
};

struct br_committer {
    br_store *store;
    struct event *ev;        /* activated by the writer: completions ready */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct job *head, *tail; /* queued, under mu */
    struct job *done_head, *done_tail; /* finished, under mu */
    bool stop;               /* under mu */
    bool started;
    /* the writer's scratch array of the current group */
    struct job **group;
    size_t group_cap;
    _Atomic uint64_t commits, appends, bytes;
};

/* ---- writer thread ---- */

/* Restore next offsets of everything tried in this attempt, newest first, so
 * that a part appended twice ends at the value before its first append. */
static void rollback(struct job **g, size_t ng) {
    for (size_t j = ng; j-- > 0;) {
        struct job *jb = g[j];
        for (size_t i = jb->n; i-- > 0;) {
            if (jb->saved[i] >= 0) {
                jb->items[i].part->next_offset = jb->saved[i];
                jb->saved[i] = -1;
            }
            if (jb->items[i].err == 0)
                jb->items[i].base_offset = -1;
        }
    }
}

/* Fail every job of the group not failed already with @p err. */
static void fail_all(struct job **g, size_t ng, int err) {
    for (size_t j = 0; j < ng; j++) {
        if (g[j]->fn) {
            if (!g[j]->fn_err)
                g[j]->fn_err = err;
            continue;
        }
        for (size_t i = 0; i < g[j]->n; i++) {
            if (!g[j]->items[i].err)
                g[j]->items[i].err = err;
        }
    }
}

/* One attempt: write every job not failed yet. Returns 0 when all went
 * in (the transaction is left open in *txn), 1 when one item or fn failed
 * (marked; transaction aborted; retry), or -errno when no transaction could
 * be begun. */
static int attempt(br_committer *c, struct job **g, size_t ng, MDB_txn **txn) {
    int rc = mdb_txn_begin(br_store_env(c->store), NULL, 0, txn);
    if (rc)
        return br_store_error(rc);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    for (size_t j = 0; j < ng; j++) {
        struct job *jb = g[j];
        if (jb->fn) {
            if (jb->fn_err)
                continue;
            int r = jb->fn(*txn, jb->arg);
            if (r < 0) {
                jb->fn_err = r;
                goto failed;
            }
            continue;
        }
        for (size_t i = 0; i < jb->n; i++) {
            br_append *it = &jb->items[i];
            if (it->err)
                continue;
            jb->saved[i] = it->part->next_offset;
            /* the idempotence check and the producer state go in the same
             * transaction as the append */
            int r = br_producers_append(c->store, *txn, it, now_ms);
            if (r < 0) {
                it->err = r;
                goto failed;
            }
            if (r == 1)
                it->err = -EPROTO; /* refused; nothing written, txn intact */
        }
    }
    return 0;
failed:
    mdb_txn_abort(*txn);
    *txn = NULL;
    rollback(g, ng);
    return 1;
}

/* Mark the last member that is still going in as failed with @p err.
 * Returns false when none is left. */
static bool drop_last(struct job **g, size_t ng, int err) {
    for (size_t j = ng; j-- > 0;) {
        struct job *jb = g[j];
        if (jb->fn) {
            if (!jb->fn_err) {
                jb->fn_err = err;
                return true;
            }
            continue;
        }
        for (size_t i = jb->n; i-- > 0;) {
            if (!jb->items[i].err) {
                jb->items[i].err = err;
                jb->items[i].base_offset = -1;
                return true;
            }
        }
    }
    return false;
}

static void run_group(br_committer *c, struct job **g, size_t ng) {
    for (size_t j = 0; j < ng; j++) {
        for (size_t i = 0; i < g[j]->n; i++) {
            g[j]->saved[i] = -1;
            g[j]->items[i].err = 0;
            g[j]->items[i].base_offset = -1;
        }
    }
    MDB_txn *txn = NULL;
    int r;
    for (;;) {
        /* Each retry has one more failed member, so this ends. */
        while ((r = attempt(c, g, ng, &txn)) == 1) {
        }
        if (r < 0) {
            fail_all(g, ng, r);
            return;
        }
        r = br_store_error(mdb_txn_commit(txn));
        if (r == 0)
            break;
        rollback(g, ng);
        /* The map can fill up at commit time (freelist and branch pages),
         * after every put fitted: give up the last member and retry, so
         * that the members that fit are still committed. */
        if (r != -ENOSPC || !drop_last(g, ng, r)) {
            fail_all(g, ng, r);
            return;
        }
    }
    uint64_t n_app = 0, n_bytes = 0;
    for (size_t j = 0; j < ng; j++) {
        for (size_t i = 0; i < g[j]->n; i++) {
            br_append *it = &g[j]->items[i];
            if (it->err)
                continue;
            if (it->producer == BR_PROD_DUPLICATE) {
                br_plog_publish(it->part, 0);
                continue;
            }
            br_plog_publish(it->part, (int64_t)it->len);
            n_app++;
            n_bytes += it->len;
        }
    }
    atomic_fetch_add(&c->commits, 1);
    atomic_fetch_add(&c->appends, n_app);
    atomic_fetch_add(&c->bytes, n_bytes);
}

/* Take queued jobs up to GROUP_MAX_BYTES into c->group. Called under mu. */
static size_t take_group(br_committer *c) {
    size_t ng = 0, bytes = 0;
    while (c->head && (ng == 0 || bytes + c->head->bytes <= GROUP_MAX_BYTES)) {
        if (ng == c->group_cap) {
            size_t cap = c->group_cap ? c->group_cap * 2 : 64;
            struct job **ng_arr = realloc(c->group, cap * sizeof *ng_arr);
            if (!ng_arr)
                break; /* run what fits; the rest waits for the next round */
            c->group = ng_arr;
            c->group_cap = cap;
        }
        struct job *jb = c->head;
        c->head = jb->next;
        jb->next = NULL;
        c->group[ng++] = jb;
        bytes += jb->bytes;
    }
    if (!c->head)
        c->tail = NULL;
    return ng;
}

static void *writer_main(void *arg) {
    br_committer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->head && !c->stop)
            pthread_cond_wait(&c->cond, &c->mu);
        if (!c->head)
            break; /* stopping and drained */
        size_t ng = take_group(c);
        if (ng == 0) {
            /* Could not even grow the group array: run one job at a time. */
            struct job *one = c->head;
            c->head = one->next;
            if (!c->head)
                c->tail = NULL;
            one->next = NULL;
            pthread_mutex_unlock(&c->mu);
            run_group(c, &one, 1);
            pthread_mutex_lock(&c->mu);
            if (c->done_tail)
                c->done_tail->next = one;
            else
                c->done_head = one;
            c->done_tail = one;
        } else {
            pthread_mutex_unlock(&c->mu);
            run_group(c, c->group, ng);
            pthread_mutex_lock(&c->mu);
            for (size_t j = 0; j < ng; j++) {
                if (c->done_tail)
                    c->done_tail->next = c->group[j];
                else
                    c->done_head = c->group[j];
                c->done_tail = c->group[j];
            }
        }
        /* One wake-up of the loop per group, whatever its size. */
        event_active(c->ev, 0, 0);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---- loop thread ---- */

static void deliver(evutil_socket_t fd, short what, void *arg) {
    br_committer *c = arg;
    pthread_mutex_lock(&c->mu);
    struct job *jb = c->done_head;
    c->done_head = c->done_tail = NULL;
    pthread_mutex_unlock(&c->mu);
    while (jb) {
        struct job *nx = jb->next;
        if (jb->fn) {
            if (jb->done)
                jb->done(jb->fn_err, jb->arg);
        } else if (jb->cb) {
            jb->cb(jb->items, jb->n, jb->arg);
        }
        free(jb);
        jb = nx;
    }
}

int br_committer_start(br_store *s, struct event_base *loop, br_committer **out) {
    br_committer *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->store = s;
    c->ev = event_new(loop, -1, 0, deliver, c);
    if (!c->ev) {
        free(c);
        return -ENOMEM;
    }
    int r = pthread_mutex_init(&c->mu, NULL);
    if (r) {
        event_free(c->ev);
        free(c);
        return -r;
    }
    if ((r = pthread_cond_init(&c->cond, NULL)) != 0) {
        pthread_mutex_destroy(&c->mu);
        event_free(c->ev);
        free(c);
        return -r;
    }
    if ((r = pthread_create(&c->thread, NULL, writer_main, c)) != 0) {
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->mu);
        event_free(c->ev);
        free(c);
        return -r;
    }
    c->started = true;
    *out = c;
    return 0;
}

static int enqueue(br_committer *c, struct job *jb) {
    pthread_mutex_lock(&c->mu);
    if (c->stop) {
        pthread_mutex_unlock(&c->mu);
        return -ESHUTDOWN;
    }
    if (c->tail)
        c->tail->next = jb;
    else
        c->head = jb;
    c->tail = jb;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int br_commit_submit(br_committer *c, br_append *items, size_t n, br_commit_cb cb, void *arg) {
    if (n == 0 || n > (SIZE_MAX - sizeof(struct job)) / sizeof(int64_t))
        return -EINVAL;
    struct job *jb = calloc(1, sizeof *jb + n * sizeof(int64_t));
    if (!jb)
        return -ENOMEM;
    jb->items = items;
    jb->n = n;
    jb->cb = cb;
    jb->arg = arg;
    for (size_t i = 0; i < n; i++)
        jb->bytes += items[i].len;
    int r = enqueue(c, jb);
    if (r < 0)
        free(jb);
    return r;
}

int br_commit_submit_fn(br_committer *c, int (*fn)(MDB_txn *txn, void *arg),
                        void (*done)(int err, void *arg), void *arg) {
    if (!fn)
        return -EINVAL;
    struct job *jb = calloc(1, sizeof *jb);
    if (!jb)
        return -ENOMEM;
    jb->fn = fn;
    jb->done = done;
    jb->arg = arg;
    int r = enqueue(c, jb);
    if (r < 0)
        free(jb);
    return r;
}

void br_committer_stop(br_committer *c) {
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->mu);
    if (c->started)
        pthread_join(c->thread, NULL);
    /* The loop may not run again: complete what the writer finished here,
     * on the calling (loop) thread, as callbacks always are. */
    deliver(-1, 0, c);
    event_free(c->ev);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c->group);
    free(c);
}

void br_committer_stats(br_committer *c, br_commit_stats *out) {
    out->commits = atomic_load(&c->commits);
    out->appends = atomic_load(&c->appends);
    out->bytes = atomic_load(&c->bytes);
}
