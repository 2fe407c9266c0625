/* fuzz_kafka_records.c — record batches (common/kafka_records.h).
 *
 * Input: the RECORDS bytes of a Produce partition (or a Fetch answer).
 * Runs kafka_records_validate with no limit and with a small per-batch limit,
 * iterates with kafka_records_next as the fetch path does, looks up
 * timestamps in every complete batch with kafka_batch_find_time, and checks
 * two properties on a copy:
 *   - validate's counts equal what iteration finds;
 *   - a payload that validates still validates after the broker's in-place
 *     edits (base offset, leader epoch, LogAppendTime + CRC recompute). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kafka_records.h"

int eddy_fuzz_init(void) { return 0; }

static void find_times(const kafka_batch *b) {
    /* + 1 in unsigned arithmetic: the timestamps are peer data, may be max */
    const int64_t probes[] = {INT64_MIN, -1, 0, b->base_timestamp, b->max_timestamp,
                              (int64_t)((uint64_t)b->base_timestamp + 1), INT64_MAX};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int64_t off = 0, ts = 0;
        int r = kafka_batch_find_time(b, probes[i], &off, &ts);
        FZ_CHECK(r == 0 || r == 1 || r == KAFKA_RECORDS_CORRUPT);
    }
}

int eddy_fuzz_one(const uint8_t *data, size_t size) {
    int nb = 0;
    int64_t nr = 0;
    int st = kafka_records_validate(data, size, 0, &nb, &nr);
    int nb_small = 0;
    int64_t nr_small = 0;
    (void)kafka_records_validate(data, size, 128, &nb_small, &nr_small);

    /* the fetch path's iteration (tolerates a partial last batch) */
    size_t off = 0;
    int seen = 0;
    int64_t records = 0;
    kafka_batch b;
    int r;
    while ((r = kafka_records_next(data, size, &off, &b)) == 1) {
        FZ_CHECK(b.start >= data && b.total_len <= size &&
                 (size_t)(b.start - data) <= size - b.total_len);
        FZ_CHECK(off <= size);
        seen++;
        records += (int64_t)b.last_offset_delta + 1;
        if (b.magic == 2)
            find_times(&b);
        if (seen > 100000)
            break;
    }
    FZ_CHECK(r == 0 || r == 1 || r == KAFKA_RECORDS_CORRUPT);

    if (st != KAFKA_RECORDS_OK)
        return 0;
    FZ_CHECK(nb >= 1 && nb == seen && nr == records);

    /* the broker's in-place edits keep a valid payload valid */
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    off = 0;
    int64_t base = 1000;
    while (kafka_records_next(copy, size, &off, &b) == 1) {
        uint8_t *p = (uint8_t *)b.start;
        kafka_batch_set_base_offset(p, base);
        kafka_batch_set_leader_epoch(p, 7);
        kafka_batch_set_log_append_time(p, b.total_len, 1700000000000);
        base += (int64_t)b.last_offset_delta + 1;
    }
    int nb2 = 0;
    int64_t nr2 = 0;
    FZ_CHECK(kafka_records_validate(copy, size, 0, &nb2, &nr2) == KAFKA_RECORDS_OK);
    FZ_CHECK(nb2 == nb && nr2 == nr);
    free(copy);
    return 0;
}
