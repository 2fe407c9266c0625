/* plog.h — partition logs inside the broker's LMDB environment.
 *
 * A partition log is a sequence of record batches keyed by base offset. Its
 * in-memory state (br_part) is created once per partition and lives until the
 * store closes or the partition is dropped. Reads run on the broker's event
 * loop with short read transactions; appends run only on the committer's
 * writer thread (commit.h). high_watermark and log_start_offset are atomics so
 * that readers see committed values without locks. */
#ifndef EDDY_BR_PLOG_H
#define EDDY_BR_PLOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct evbuffer;

typedef struct br_part {
    uint8_t topic_id[16];
    int32_t partition;
    uint32_t part_id;               /* key prefix in "log" */
    _Atomic int64_t log_start;      /* first offset still stored */
    _Atomic int64_t high_watermark; /* next offset after committed data */
    _Atomic int64_t bytes;          /* stored batch bytes, for stats/retention */
    int64_t next_offset;            /* writer thread only */
    void *user;                     /* for the owner of the part (fetch waiters) */
} br_part;

/** Find the partition in memory, or load it from "parts", or (with
 *  @p create) create it empty. Returns 0 and *out (owned by the store), or
 *  -ENOENT (missing and !create) or -errno. Loop thread only.
 *  Loading scans the partition's keys once (high watermark, log start,
 *  bytes). Creating runs a small write transaction on the calling thread:
 *  it waits for the writer's current group commit (rare: new partitions). */
int br_plog_open(br_store *s, const uint8_t topic_id[16], int32_t partition, bool create,
                 br_part **out);

/** Call @p fn for every partition stored (topic id, partition). For
 *  reconciling with the cluster map at start. @p fn runs inside a read
 *  transaction: it must not write to the store (collect, then act).
 *  Returns 0 or -errno. */
int br_plog_list(br_store *s, void (*fn)(const uint8_t topic_id[16], int32_t partition, void *arg),
                 void *arg);

/** Delete a partition's data and record (topic deleted or moved away). The
 *  br_part must not be used afterwards. Runs its own write transaction; the
 *  caller must make sure no append for it is queued. Returns 0 or -errno. */
int br_plog_drop(br_store *s, const uint8_t topic_id[16], int32_t partition);

/** Append to @p out whole batches starting with the one that contains
 *  @p offset, up to @p max_bytes — but always at least one whole batch when
 *  one exists (KIP-74), and never past the high watermark. *n gets the bytes
 *  appended. Returns 0, or -ERANGE when offset < log_start or offset >
 *  high_watermark, or -errno. offset == high_watermark gives 0 bytes.
 *  Large batches are added by reference to the LMDB map under a pinned read
 *  (br_store_pin_begin), so @p out must be treated as read-only and freed
 *  or drained in time: its chains hold the snapshot. */
int br_plog_read(br_store *s, br_part *p, int64_t offset, size_t max_bytes,
                 struct evbuffer *out, size_t *n);

/** As br_plog_read(), under the caller's pinned read (@p pin, @p txn from
 *  br_store_pin_begin; one pin can serve many reads), and the largest
 *  batches go to @p out as file segments (br_store_add_file_ref): the
 *  caller keeps its pin reference until the peer has read them, not only
 *  until they were sent (rpc_call_reply_held). @p out needs
 *  EVBUFFER_FLAG_DRAINS_TO_FD. Batches committed after the pin began may
 *  be left out: the read then ends before them. */
int br_plog_read_held(br_store *s, br_pin *pin, MDB_txn *txn, br_part *p, int64_t offset,
                      size_t max_bytes, struct evbuffer *out, size_t *n);

/** The earliest offset whose record timestamp is >= @p ts (ListOffsets by
 *  time): *offset and *ts_found, or *offset = -1 and *ts_found = -1 when
 *  none. Batches are scanned in order from log_start (linear in the number of
 *  batches: acceptable while retention keeps logs short; an index by time
 *  would replace it). Within uncompressed CreateTime batches the record is
 *  found exactly; compressed and LogAppendTime batches answer with their base
 *  offset and maxTimestamp. Loop thread. Returns 0 or -errno. */
int br_plog_offset_for_time(br_store *s, br_part *p, int64_t ts, int64_t *offset,
                            int64_t *ts_found);

/** Append batches in the writer's transaction @p txn (writer thread only):
 *  assigns offsets from p->next_offset, rewrites each batch's baseOffset in
 *  place (and leader epoch; LogAppendTime if @p log_append_time >= 0), puts
 *  them under "log". *base_offset gets the first assigned offset. On error
 *  p->next_offset is unchanged. Returns 0 or -errno. */
int br_plog_append(br_store *s, MDB_txn *txn, br_part *p, uint8_t *batches, size_t len,
                   int32_t leader_epoch, int64_t log_append_time, int64_t *base_offset);

/** Delete whole batches below @p new_start (retention / DeleteRecords) in
 *  @p txn and store the new log start (a batch containing new_start stays;
 *  reads below new_start then give -ERANGE). Writer thread only. log_start
 *  and bytes are published at once, before the commit: readers may be
 *  refused data that is still there, never shown data that is gone; if the
 *  transaction then fails, the in-memory values stay ahead of the disk until
 *  the next open. new_start <= log_start is a no-op. Returns 0, -ERANGE when
 *  new_start is past the end of the log, or -errno. */
int br_plog_truncate_head(br_store *s, MDB_txn *txn, br_part *p, int64_t new_start);

/** Publish appends after the transaction holding them committed (writer
 *  thread): high_watermark = next_offset, bytes += @p added_bytes. The
 *  committer calls it; code appending in its own transaction must too. */
void br_plog_publish(br_part *p, int64_t added_bytes);

#endif
