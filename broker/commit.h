/* commit.h — group commit: appends from many produce requests are written by
 * one writer thread in one LMDB write transaction, and made durable with one
 * sync, then completed back on the broker's event loop.
 *
 * The loop never blocks on LMDB writes or fsync. */
#ifndef EDDY_BR_COMMIT_H
#define EDDY_BR_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "plog.h"

struct event_base;

typedef struct br_committer br_committer;

/** One partition's share of a produce request. The caller fills the inputs
 *  and keeps the item and its batches alive and untouched until the
 *  callback. */
typedef struct br_append {
    br_part *part;
    uint8_t *batches;         /* validated v2 batches; rewritten in place */
    size_t len;
    int32_t leader_epoch;
    int64_t log_append_time;  /* >= 0: stamp batches with this LogAppendTime */
    /* results, valid in the callback */
    int err;                  /* 0 or -errno (-ENOSPC: map full, -EIO; -EPROTO:
                                 refused by the idempotence rules, see producer) */
    int64_t base_offset;
    int producer;             /* br_prod_verdict (producer_state.h): BR_PROD_DUPLICATE
                                 means nothing was appended and base_offset is the
                                 original batch's */
} br_append;

/** Runs on the loop thread once every item of one submit is committed
 *  (durable when the store is in sync mode) or failed. */
typedef void (*br_commit_cb)(br_append *items, size_t n, void *arg);

/** Start the writer thread. Completions are delivered on @p loop. */
int br_committer_start(br_store *s, struct event_base *loop, br_committer **out);

/** Queue @p n appends (from the loop thread). Returns 0, or -errno when
 *  queueing failed (then @p cb will not run): -EINVAL for n == 0, -ENOMEM,
 *  -ESHUTDOWN after br_committer_stop() began. Each item either gets its own
 *  err (then base_offset is -1) or is committed; one failing item does not
 *  fail the others. Appends of one part are assigned offsets in submit
 *  order. The loop needs evthread_use_pthreads() before its event_base was
 *  created: the writer thread wakes it. */
int br_commit_submit(br_committer *c, br_append *items, size_t n, br_commit_cb cb, void *arg);

/** Run @p fn(txn, arg) in the writer thread inside the next group
 *  transaction (for other durable writes: offsets, producer state). @p done
 *  (may be NULL) runs on the loop with fn's error or the commit result.
 *  @p fn returns 0 or -errno; on failure its writes are discarded and the
 *  rest of the group proceeds. LMDB cannot undo part of a transaction, so
 *  when another member of the group fails, the group is replayed: @p fn may
 *  then run more than once and must only write through @p txn (no other side
 *  effects until @p done). */
int br_commit_submit_fn(br_committer *c, int (*fn)(MDB_txn *txn, void *arg),
                        void (*done)(int err, void *arg), void *arg);

/** Finish queued work, stop the thread, free. Accepts NULL. Completions not
 *  yet delivered by the loop run here, on the calling (loop) thread. */
void br_committer_stop(br_committer *c);

/** Counters for stats (read from any thread). */
typedef struct br_commit_stats {
    uint64_t commits, appends, bytes;
} br_commit_stats;
void br_committer_stats(br_committer *c, br_commit_stats *out);

#endif
