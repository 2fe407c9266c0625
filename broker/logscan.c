/* logscan.c — header-only walks over a partition's stored batches. */
#include "logscan.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "kafka_records.h"

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v) {
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Fill @p b from a log entry; false when the key is not one of @p p's. */
static bool entry(const br_part *p, const MDB_val *k, const MDB_val *v, br_batch_info *b) {
    uint8_t prefix[4];
    put_be32(prefix, p->part_id);
    if (k->mv_size != 12 || memcmp(k->mv_data, prefix, 4))
        return false;
    b->base_offset = (int64_t)get_be64((const uint8_t *)k->mv_data + 4);
    b->len = v->mv_size;
    /* maxTimestamp sits at byte 35 of the batch header */
    b->max_timestamp = v->mv_size >= KAFKA_BATCH_HEADER_LEN
                           ? (int64_t)get_be64((const uint8_t *)v->mv_data + 35)
                           : -1;
    return true;
}

static int begin(br_store *s, MDB_txn **txn, MDB_cursor **cur) {
    int rc = mdb_txn_begin(br_store_env(s), NULL, MDB_RDONLY, txn);
    if (rc)
        return br_store_error(rc);
    rc = mdb_cursor_open(*txn, br_store_dbi(s, "log"), cur);
    if (rc) {
        mdb_txn_abort(*txn);
        return br_store_error(rc);
    }
    return 0;
}

int br_logscan(br_store *s, const br_part *p, int64_t from,
               int (*fn)(const br_batch_info *b, void *arg), void *arg) {
    MDB_txn *txn;
    MDB_cursor *cur;
    int r = begin(s, &txn, &cur);
    if (r < 0)
        return r;
    int64_t hw = atomic_load(&p->high_watermark);
    uint8_t kb[12];
    put_be32(kb, p->part_id);
    put_be64(kb + 4, (uint64_t)(from < 0 ? 0 : from));
    MDB_val k = {sizeof kb, kb}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    br_batch_info b;
    while (rc == 0 && entry(p, &k, &v, &b) && b.base_offset < hw) {
        if (fn(&b, arg))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    r = rc == 0 || rc == MDB_NOTFOUND ? 0 : br_store_error(rc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return r;
}

int br_logscan_last(br_store *s, const br_part *p, br_batch_info *out) {
    MDB_txn *txn;
    MDB_cursor *cur;
    int r = begin(s, &txn, &cur);
    if (r < 0)
        return r;
    int64_t hw = atomic_load(&p->high_watermark);
    /* position on the first key at or after the high watermark, then step
     * back: that is the newest committed batch */
    uint8_t kb[12];
    put_be32(kb, p->part_id);
    put_be64(kb + 4, (uint64_t)(hw < 0 ? 0 : hw));
    MDB_val k = {sizeof kb, kb}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    else if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    /* MDB_LAST may land on a key at/after hw when hw lags: walk back */
    while (rc == 0 && entry(p, &k, &v, out) && out->base_offset >= hw)
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    if (rc == 0)
        r = entry(p, &k, &v, out) ? 0 : -ENOENT;
    else
        r = rc == MDB_NOTFOUND ? -ENOENT : br_store_error(rc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return r;
}
