/* plog_copy.h — writing a partition log that another broker produced: the
 * target of a partition move (mover.h) stores the owner's batches at their
 * own offsets instead of assigning new ones.
 *
 * Uses the key layout documented in plog.c: "parts" topic_id(16) +
 * partition(BE) -> {1, 0, 0, 0, part_id BE32, log_start BE64}; "log"
 * part_id BE32 + base_offset BE64 -> one batch. */
#ifndef EDDY_BR_PLOG_COPY_H
#define EDDY_BR_PLOG_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "plog.h"

/** Put the whole batches @p batches (@p len bytes, as read from the owner)
 *  into @p txn at their own base offsets. They must continue the log: the
 *  first starts at @p expect (or, when @p new_log_start >= 0 and the log is
 *  empty, contains new_log_start, which then becomes the log start), each
 *  next one where the previous ended. Touches no in-memory state, so the
 *  committer may replay it: the caller publishes after the commit with
 *  br_plog_copy_publish(). *end gets the offset after the last batch,
 *  *bytes the bytes put. Writer thread. Returns 0, -EINVAL (not whole
 *  batches, or a gap) or -errno. */
int br_plog_put_copied(br_store *s, MDB_txn *txn, const br_part *p, const uint8_t *batches,
                       size_t len, int64_t expect, int64_t new_log_start, int64_t *end,
                       int64_t *bytes);

/** After the transaction of br_plog_put_copied() committed: advance
 *  @p p (next offset, high watermark, bytes, log start when @p new_log_start
 *  >= 0). Loop thread; only while nothing else appends to @p p (the
 *  partition is not owned here). */
void br_plog_copy_publish(br_part *p, int64_t end, int64_t bytes, int64_t new_log_start);

/** The partitionLeaderEpoch of the last stored batch of @p p: *epoch, or
 *  -1 when the log is empty. Loop thread. Returns 0 or -errno. */
int br_plog_last_epoch(br_store *s, const br_part *p, int32_t *epoch);

#endif
