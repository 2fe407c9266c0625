/* logscan.c — header-only walks over a partition's stored batches. */
#include "logscan.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "kafka_records.h"
#include "plog_format.h"

/* Fill @p b from a log entry; false when the key is not one of @p p's. */
static bool entry(const br_part *p, const MDB_val *k, const MDB_val *v, br_batch_info *b) {
    if (!plog_key_is_part(k, p->part_id, &b->base_offset))
        return false;
    b->len = v->mv_size;
    /* maxTimestamp sits at byte 35 of the batch header */
    b->max_timestamp = v->mv_size >= KAFKA_BATCH_HEADER_LEN
                           ? (int64_t)be_get64((const uint8_t *)v->mv_data + 35)
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
    uint8_t kb[LOG_KEY_LEN];
    plog_log_key(kb, p->part_id, from < 0 ? 0 : from);
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
    uint8_t kb[LOG_KEY_LEN];
    plog_log_key(kb, p->part_id, hw < 0 ? 0 : hw);
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
