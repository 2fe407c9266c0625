/* kafka_records.c — record batch (magic v2) validation, iteration and the
 * in-place edits a broker makes. See kafka_records.h for the layout.
 *
 * Everything here runs on bytes a client sent: every length is compared with
 * what remains before it is used, and nothing is read past p + len. */
#include "kafka_records.h"

#include <limits.h>

#include "byteorder.h"
#include "crc32c.h"
#include "kafka_reader.h"

/* Field offsets inside a batch (see the header comment of kafka_records.h). */
enum {
    OFF_BASE_OFFSET = 0,
    OFF_BATCH_LENGTH = 8,
    OFF_LEADER_EPOCH = 12,
    OFF_MAGIC = 16,
    OFF_CRC = 17,
    OFF_ATTRIBUTES = 21,
    OFF_LAST_OFFSET_DELTA = 23,
    OFF_BASE_TIMESTAMP = 27,
    OFF_MAX_TIMESTAMP = 35,
    OFF_PRODUCER_ID = 43,
    OFF_PRODUCER_EPOCH = 51,
    OFF_BASE_SEQUENCE = 53,
    OFF_RECORD_COUNT = 57,
};

/* batchLength counts the bytes after itself: the smallest legal batch is a
 * header with no records. */
#define MIN_BATCH_LENGTH (KAFKA_BATCH_HEADER_LEN - KAFKA_BATCH_LOG_OVERHEAD)



int kafka_batch_parse(const uint8_t *p, size_t len, kafka_batch *out) {
    /* Magic sits at byte 16 in v0/v1 message sets too (offset, size, crc),
     * so an old-format produce is recognised as such, not as garbage. */
    if (len <= OFF_MAGIC)
        return KAFKA_RECORDS_CORRUPT;
    int32_t blen = (int32_t)be_get32(p + OFF_BATCH_LENGTH);
    if ((int8_t)p[OFF_MAGIC] != 2)
        return KAFKA_RECORDS_BAD_MAGIC;
    if (len < KAFKA_BATCH_HEADER_LEN || blen < MIN_BATCH_LENGTH)
        return KAFKA_RECORDS_CORRUPT;
    out->base_offset = (int64_t)be_get64(p + OFF_BASE_OFFSET);
    out->batch_length = blen;
    out->partition_leader_epoch = (int32_t)be_get32(p + OFF_LEADER_EPOCH);
    out->magic = (int8_t)p[OFF_MAGIC];
    out->crc = be_get32(p + OFF_CRC);
    out->attributes = (int16_t)be_get16(p + OFF_ATTRIBUTES);
    out->last_offset_delta = (int32_t)be_get32(p + OFF_LAST_OFFSET_DELTA);
    out->base_timestamp = (int64_t)be_get64(p + OFF_BASE_TIMESTAMP);
    out->max_timestamp = (int64_t)be_get64(p + OFF_MAX_TIMESTAMP);
    out->producer_id = (int64_t)be_get64(p + OFF_PRODUCER_ID);
    out->producer_epoch = (int16_t)be_get16(p + OFF_PRODUCER_EPOCH);
    out->base_sequence = (int32_t)be_get32(p + OFF_BASE_SEQUENCE);
    out->record_count = (int32_t)be_get32(p + OFF_RECORD_COUNT);
    out->start = p;
    out->total_len = (size_t)blen + KAFKA_BATCH_LOG_OVERHEAD;
    return 0;
}

/* Skip a varint-length-prefixed byte string; -1 (null) is allowed only when
 * @p nullable. */
static void skip_varbytes(kafka_reader *r, bool nullable) {
    int32_t n = kr_varint(r);
    if (n == -1 && nullable)
        return;
    if (n < 0) {
        kr_fail(r);
        return;
    }
    kr_raw(r, (size_t)n);
}

/* Read one record of an uncompressed batch. Returns 0 with its offsetDelta
 * and timestampDelta, or KAFKA_RECORDS_CORRUPT. */
static int read_record(kafka_reader *r, int32_t *offset_delta, int64_t *ts_delta) {
    int32_t rlen = kr_varint(r);
    if (!kr_ok(r) || rlen < 0 || (size_t)rlen > kr_remaining(r))
        return KAFKA_RECORDS_CORRUPT;
    /* The record's own length must match its fields exactly. */
    kafka_reader rec = kr_sub(r, (size_t)rlen);
    kr_i8(&rec); /* record attributes: unused in v2 */
    *ts_delta = kr_varlong(&rec);
    *offset_delta = kr_varint(&rec);
    skip_varbytes(&rec, true);  /* key */
    skip_varbytes(&rec, true);  /* value */
    int32_t nh = kr_varint(&rec);
    if (nh < 0)
        kr_fail(&rec);
    for (int32_t h = 0; h < nh && kr_ok(&rec); h++) {
        skip_varbytes(&rec, false); /* header key */
        skip_varbytes(&rec, true);  /* header value */
    }
    if (!kr_ok(&rec) || kr_remaining(&rec) != 0)
        return KAFKA_RECORDS_CORRUPT;
    return 0;
}

/* Walk the records of an uncompressed batch: they must exactly fill it, be
 * record_count many, and carry offsetDelta 0, 1, 2, ... as every producer
 * writes them (the broker's offset assignment relies on it). */
static int check_records(const kafka_batch *b) {
    if (b->attributes & KAFKA_ATTR_COMPRESSION_MASK)
        return 0; /* compressed payload: checked by CRC only, never decoded */
    kafka_reader r;
    kr_init(&r, b->start + KAFKA_BATCH_HEADER_LEN, b->total_len - KAFKA_BATCH_HEADER_LEN);
    for (int32_t i = 0; i < b->record_count; i++) {
        int32_t od;
        int64_t td;
        if (read_record(&r, &od, &td) < 0)
            return KAFKA_RECORDS_CORRUPT;
        if (od != i)
            return KAFKA_RECORDS_INVALID;
    }
    return kr_remaining(&r) == 0 ? 0 : KAFKA_RECORDS_CORRUPT;
}

/* Checks of one complete batch of @p avail bytes at @p p. */
static int validate_one(const uint8_t *p, size_t avail, size_t max_batch_bytes,
                        kafka_batch *b) {
    int r = kafka_batch_parse(p, avail, b);
    if (r < 0)
        return r;
    if (b->total_len > avail)
        return KAFKA_RECORDS_CORRUPT;
    if (max_batch_bytes && b->total_len > max_batch_bytes)
        return KAFKA_RECORDS_TOO_LARGE;
    uint32_t crc = crc32c(0, p + OFF_ATTRIBUTES, b->total_len - OFF_ATTRIBUTES);
    if (crc != b->crc)
        return KAFKA_RECORDS_CORRUPT;
    if (b->last_offset_delta < 0 || b->record_count < 0 ||
        (int64_t)b->record_count != (int64_t)b->last_offset_delta + 1)
        return KAFKA_RECORDS_INVALID;
    return check_records(b);
}

int kafka_records_validate(const uint8_t *p, size_t len, size_t max_batch_bytes,
                           int *n_batches, int64_t *n_records) {
    size_t off = 0;
    int nb = 0;
    int64_t nr = 0;
    if (len == 0)
        return KAFKA_RECORDS_EMPTY;
    while (off < len) {
        kafka_batch b;
        int r = validate_one(p + off, len - off, max_batch_bytes, &b);
        if (r < 0)
            return r;
        if (nb == INT_MAX)
            return KAFKA_RECORDS_INVALID;
        nb++;
        nr += (int64_t)b.last_offset_delta + 1;
        off += b.total_len;
    }
    *n_batches = nb;
    *n_records = nr;
    return KAFKA_RECORDS_OK;
}

int kafka_records_next(const uint8_t *p, size_t len, size_t *off, kafka_batch *b) {
    if (*off >= len)
        return 0;
    size_t avail = len - *off;
    const uint8_t *q = p + *off;
    /* A fetch response may end inside a batch; a header that is already
     * impossible (bad length or magic) is corruption, not truncation. */
    if (avail >= OFF_BATCH_LENGTH + 4 &&
        (int32_t)be_get32(q + OFF_BATCH_LENGTH) < MIN_BATCH_LENGTH)
        return KAFKA_RECORDS_CORRUPT;
    if (avail > OFF_MAGIC && (int8_t)q[OFF_MAGIC] != 2)
        return KAFKA_RECORDS_CORRUPT;
    if (avail < KAFKA_BATCH_HEADER_LEN)
        return 0;
    if (kafka_batch_parse(q, avail, b) < 0)
        return KAFKA_RECORDS_CORRUPT;
    if (b->total_len > avail)
        return 0;
    *off += b->total_len;
    return 1;
}

int kafka_batch_find_time(const kafka_batch *b, int64_t ts, int64_t *offset,
                          int64_t *rec_ts) {
    if (b->max_timestamp < ts)
        return 0;
    /* LogAppendTime gives every record the batch's maxTimestamp; compressed
     * records are not decoded here: both answer with the batch itself. */
    if ((b->attributes & (KAFKA_ATTR_TIMESTAMP_LOG_APPEND | KAFKA_ATTR_COMPRESSION_MASK)) ||
        b->total_len < KAFKA_BATCH_HEADER_LEN) {
        *offset = b->base_offset;
        *rec_ts = b->max_timestamp;
        return 1;
    }
    kafka_reader r;
    kr_init(&r, b->start + KAFKA_BATCH_HEADER_LEN, b->total_len - KAFKA_BATCH_HEADER_LEN);
    for (int32_t i = 0; i < b->record_count; i++) {
        int32_t od;
        int64_t td;
        if (read_record(&r, &od, &td) < 0)
            return KAFKA_RECORDS_CORRUPT;
        /* Unsigned add: a hostile delta must not be signed-overflow UB. */
        int64_t t = (int64_t)((uint64_t)b->base_timestamp + (uint64_t)td);
        if (t >= ts) {
            *offset = b->base_offset + od;
            *rec_ts = t;
            return 1;
        }
    }
    /* maxTimestamp said yes but no record did: trust the header. */
    *offset = b->base_offset;
    *rec_ts = b->max_timestamp;
    return 1;
}

void kafka_batch_set_base_offset(uint8_t *batch, int64_t base_offset) {
    be_put64(batch + OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void kafka_batch_set_leader_epoch(uint8_t *batch, int32_t epoch) {
    be_put32(batch + OFF_LEADER_EPOCH, (uint32_t)epoch);
}

void kafka_batch_set_log_append_time(uint8_t *batch, size_t total_len, int64_t ts) {
    uint16_t attr = be_get16(batch + OFF_ATTRIBUTES);
    be_put16(batch + OFF_ATTRIBUTES, (uint16_t)(attr | KAFKA_ATTR_TIMESTAMP_LOG_APPEND));
    be_put64(batch + OFF_MAX_TIMESTAMP, (uint64_t)ts);
    be_put32(batch + OFF_CRC, crc32c(0, batch + OFF_ATTRIBUTES, total_len - OFF_ATTRIBUTES));
}
