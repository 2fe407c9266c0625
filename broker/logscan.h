/* logscan.h — read-only walks over a partition's stored batches (the "log"
 * database, key part_id(BE32) + base_offset(BE64), see store.h) for the few
 * questions plog.h does not answer: the last batch, the batch with the
 * largest maxTimestamp, and sizes from the oldest batch on (retention).
 * Each walk is one short read transaction on the loop thread; only batch
 * headers are looked at. */
#ifndef EDDY_BR_LOGSCAN_H
#define EDDY_BR_LOGSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "plog.h"

typedef struct br_batch_info {
    int64_t base_offset;
    int64_t max_timestamp;   /* -1 when the stored value is too short to tell */
    size_t len;              /* stored bytes of the batch */
} br_batch_info;

/** Call @p fn for each stored batch of @p p with base offset >= @p from and
 *  below the high watermark, oldest first, until @p fn returns non-zero.
 *  Returns 0 or -errno. */
int br_logscan(br_store *s, const br_part *p, int64_t from,
               int (*fn)(const br_batch_info *b, void *arg), void *arg);

/** The newest stored batch of @p p below the high watermark: 0 and *out, or
 *  -ENOENT when the partition is empty, or -errno. */
int br_logscan_last(br_store *s, const br_part *p, br_batch_info *out);

#endif
