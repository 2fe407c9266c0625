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
 *  -ENOENT (missing and !create) or -errno. Loop thread only. */
int br_plog_open(br_store *s, const uint8_t topic_id[16], int32_t partition, bool create,
                 br_part **out);

/** Call @p fn for every partition stored (topic id, partition). For
 *  reconciling with the cluster map at start. Returns 0 or -errno. */
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
 *  high_watermark, or -errno. offset == high_watermark gives 0 bytes. */
int br_plog_read(br_store *s, br_part *p, int64_t offset, size_t max_bytes,
                 struct evbuffer *out, size_t *n);

/** The earliest offset whose batch has maxTimestamp >= @p ts: *offset and
 *  *ts_found (the batch's maxTimestamp), or *offset = -1 when none. */
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
 *  @p txn. Writer thread only. */
int br_plog_truncate_head(br_store *s, MDB_txn *txn, br_part *p, int64_t new_start);

#endif
