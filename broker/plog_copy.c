/* plog_copy.c — a partition log copied from its owner (see plog_copy.h). */
#include "plog_copy.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "kafka_records.h"

#define PART_REC_VERSION 1
#define PART_REC_LEN 16
#define PART_KEY_LEN 20
#define LOG_KEY_LEN 12

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be64(uint8_t *p, int64_t v) {
    put_be32(p, (uint32_t)((uint64_t)v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static void log_key(uint8_t k[LOG_KEY_LEN], uint32_t part_id, int64_t base) {
    put_be32(k, part_id);
    put_be64(k + 4, base);
}

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
        log_key(kb, p->part_id, b.base_offset);
        MDB_val k = {LOG_KEY_LEN, kb}, v = {b.total_len, (void *)b.start};
        /* NOOVERWRITE: a copy never replaces data */
        int rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
        if (rc)
            return br_store_error(rc);
        put += (int64_t)b.total_len;
    }
    if (new_log_start >= 0) {
        uint8_t kb[PART_KEY_LEN], rb[PART_REC_LEN];
        memcpy(kb, p->topic_id, 16);
        put_be32(kb + 16, (uint32_t)p->partition);
        memset(rb, 0, sizeof rb);
        rb[0] = PART_REC_VERSION;
        put_be32(rb + 4, p->part_id);
        put_be64(rb + 8, new_log_start);
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
        log_key(kb, p->part_id + 1, 0);
        MDB_val k = {LOG_KEY_LEN, kb}, v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        if (rc == 0 && k.mv_size == LOG_KEY_LEN && get_be32(k.mv_data) == p->part_id) {
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
