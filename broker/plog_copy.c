/* plog_copy.c — a partition log copied from its owner (see plog_copy.h). */
#include "plog_copy.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "kafka_records.h"
#include "plog_format.h"

int br_plog_put_copied(br_store *s, MDB_txn *txn, const br_part *p, const uint8_t *batches,
                       size_t len, int64_t expect, int64_t new_log_start, int64_t *end,
                       int64_t *bytes) {
    kafka_batch b;
    size_t off = 0;
    int r;
    /* framing and continuity first, so that a bad payload writes nothing */
    int64_t next = expect;
    bool first = true;
    while ((r = kafka_records_next(batches, len, &off, &b)) == 1) {
        bool ok = b.base_offset == next ||
                  (first && new_log_start >= 0 && b.base_offset <= new_log_start &&
                   b.base_offset + b.last_offset_delta >= new_log_start);
        if (!ok || b.magic != 2 || b.last_offset_delta < 0)
            return -EINVAL;
        next = b.base_offset + b.last_offset_delta + 1;
        first = false;
    }
    if (r < 0 || off != len || len == 0)
        return -EINVAL;
    MDB_dbi dbi = br_store_dbi(s, "log");
    off = 0;
    int64_t put = 0;
    while (kafka_records_next(batches, len, &off, &b) == 1) {
        uint8_t kb[LOG_KEY_LEN];
        plog_log_key(kb, p->part_id, b.base_offset);
        MDB_val k = {LOG_KEY_LEN, kb}, v = {b.total_len, (void *)b.start};
        /* NOOVERWRITE: a copy never replaces data */
        int rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
        if (rc)
            return br_store_error(rc);
        put += (int64_t)b.total_len;
    }
    if (new_log_start >= 0) {
        uint8_t kb[PART_KEY_LEN], rb[PART_REC_LEN];
        plog_part_key(kb, p->topic_id, p->partition);
        plog_rec_encode(rb, p->part_id, new_log_start);
        MDB_val k = {PART_KEY_LEN, kb}, v = {PART_REC_LEN, rb};
        int rc = mdb_put(txn, br_store_dbi(s, "parts"), &k, &v, 0);
        if (rc)
            return br_store_error(rc);
    }
    *end = next;
    *bytes = put;
    return 0;
}

void br_plog_copy_publish(br_part *p, int64_t end, int64_t bytes, int64_t new_log_start) {
    if (new_log_start >= 0)
        atomic_store(&p->log_start, new_log_start);
    p->next_offset = end;
    br_plog_publish(p, bytes);
}

int br_plog_last_epoch(br_store *s, const br_part *p, int32_t *epoch) {
    MDB_txn *txn;
    int r = br_store_read_begin(s, &txn);
    if (r < 0)
        return r;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, br_store_dbi(s, "log"), &cur);
    *epoch = -1;
    if (rc == 0) {
        /* the first key after this partition's range, then one back */
        uint8_t kb[LOG_KEY_LEN];
        plog_log_key(kb, p->part_id + 1, 0);
        MDB_val k = {LOG_KEY_LEN, kb}, v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        int64_t base;
        if (rc == 0 && plog_key_is_part(&k, p->part_id, &base)) {
            kafka_batch b;
            if (kafka_batch_parse(v.mv_data, v.mv_size, &b) < 0)
                rc = MDB_CORRUPTED;
            else
                *epoch = b.partition_leader_epoch;
        }
        if (rc == MDB_NOTFOUND)
            rc = 0;
        mdb_cursor_close(cur);
    }
    br_store_read_end(s, txn);
    return br_store_error(rc);
}
