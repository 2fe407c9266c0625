/* kafka_records.h — record batches (magic v2) as they appear in Produce and
 * Fetch: validation, iteration and the few in-place edits a broker makes.
 *
 * Batches are never re-encoded: the broker only rewrites baseOffset and
 * partitionLeaderEpoch (outside the CRC), and for LogAppendTime topics the
 * timestamp type and maxTimestamp (then the CRC is recomputed).
 *
 * Batch layout (big-endian):
 *   0  baseOffset int64        8  batchLength int32 (bytes after this field)
 *  12  partitionLeaderEpoch    16 magic int8 (2)    17 crc uint32 (CRC-32C of
 *  21..end)                    21 attributes int16  23 lastOffsetDelta int32
 *  27  baseTimestamp int64     35 maxTimestamp int64 43 producerId int64
 *  51  producerEpoch int16     53 baseSequence int32 57 records count int32
 *  61  records... */
#ifndef EDDY_KAFKA_RECORDS_H
#define EDDY_KAFKA_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KAFKA_BATCH_HEADER_LEN 61
#define KAFKA_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */

/* attributes bits */
#define KAFKA_ATTR_COMPRESSION_MASK 0x07
#define KAFKA_ATTR_TIMESTAMP_LOG_APPEND 0x08
#define KAFKA_ATTR_TRANSACTIONAL 0x10
#define KAFKA_ATTR_CONTROL 0x20

/** The header fields of one batch (a parsed copy; the batch stays where it is). */
typedef struct kafka_batch {
    int64_t base_offset;
    int32_t batch_length;        /* bytes after the batchLength field */
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
    const uint8_t *start;        /* first byte of the batch (baseOffset) */
    size_t total_len;            /* batch_length + 12 */
} kafka_batch;

/** Result of validating a produce payload. */
enum kafka_records_status {
    KAFKA_RECORDS_OK = 0,
    KAFKA_RECORDS_CORRUPT = -1,        /* truncated, bad lengths, CRC mismatch */
    KAFKA_RECORDS_BAD_MAGIC = -2,      /* magic != 2 (v0/v1 message sets) */
    KAFKA_RECORDS_TOO_LARGE = -3,      /* a batch over max_batch_bytes */
    KAFKA_RECORDS_EMPTY = -4,          /* no batch at all */
    KAFKA_RECORDS_INVALID = -5,        /* e.g. lastOffsetDelta < 0, count mismatch */
};

/** Parse the batch header at @p p (@p len bytes available). Returns 0, or
 *  KAFKA_RECORDS_CORRUPT (fewer than KAFKA_BATCH_HEADER_LEN bytes, or
 *  batchLength < 49) / KAFKA_RECORDS_BAD_MAGIC (checked first, so that a
 *  short v0/v1 message set is recognised); does not check the CRC, nor that
 *  the whole batch (out->total_len) lies within @p len: callers do. */
int kafka_batch_parse(const uint8_t *p, size_t len, kafka_batch *out);

/** Validate a whole produce payload: one or more complete v2 batches, each
 *  with a correct CRC-32C, lastOffsetDelta >= 0 and recordCount ==
 *  lastOffsetDelta + 1, no trailing partial batch; in uncompressed batches
 *  the records must also exactly fill the batch with offsetDelta 0, 1, ...
 *  (KAFKA_RECORDS_CORRUPT / _INVALID otherwise); each batch at most
 *  @p max_batch_bytes (0: no limit). On success *n_batches and
 *  *n_records (sum of lastOffsetDelta+1) are set. Returns a
 *  kafka_records_status. */
int kafka_records_validate(const uint8_t *p, size_t len, size_t max_batch_bytes,
                           int *n_batches, int64_t *n_records);

/** Iterate batches in a buffer that may end with a partial batch (a fetch
 *  response): returns 1 with *b filled and *off advanced, 0 at the end or at
 *  a partial batch, KAFKA_RECORDS_CORRUPT if a header is impossible. */
int kafka_records_next(const uint8_t *p, size_t len, size_t *off, kafka_batch *b);

/** Find, in the complete batch @p b (from kafka_batch_parse on a buffer that
 *  holds all of it), the first record with timestamp >= @p ts: returns 1 with
 *  *offset (absolute, from b->base_offset) and *rec_ts; 0 when the batch's
 *  maxTimestamp < ts; KAFKA_RECORDS_CORRUPT when its records are malformed.
 *  Compressed and LogAppendTime batches answer with their base offset and
 *  maxTimestamp (records are not decompressed). */
int kafka_batch_find_time(const kafka_batch *b, int64_t ts, int64_t *offset,
                          int64_t *rec_ts);

/** Rewrite baseOffset of the batch at @p batch (no CRC change). */
void kafka_batch_set_base_offset(uint8_t *batch, int64_t base_offset);
/** Rewrite partitionLeaderEpoch (no CRC change). */
void kafka_batch_set_leader_epoch(uint8_t *batch, int32_t epoch);
/** Switch the batch to LogAppendTime @p ts: sets the timestamp-type bit and
 *  maxTimestamp, then recomputes the CRC. */
void kafka_batch_set_log_append_time(uint8_t *batch, size_t total_len, int64_t ts);

#endif
