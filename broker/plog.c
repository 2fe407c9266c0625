/* plog.c — partition logs in LMDB (see plog.h; the layout is in
 * plog_format.h).
 *
 * The br_part objects live in a chained hash table kept in the store's
 * BR_STORE_CTX_PLOG slot. The table is touched only by the loop thread; the
 * writer thread sees only the br_part objects handed to it. */
#include "plog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "kafka_records.h"
#include "plog_format.h"

#define META_NEXT_PART_ID "plog.next_part_id"

struct plog_entry {
    br_part part; /* first: a br_part * is also the entry's address */
    struct plog_entry *next;
};

struct plog_table {
    struct plog_entry **buckets;
    size_t n_buckets; /* a power of two */
    size_t count;
};

/* A stored batch must parse and fill its value exactly; anything else means
 * the file is damaged. */
static int val_batch(const MDB_val *v, kafka_batch *b) {
    if (kafka_batch_parse(v->mv_data, v->mv_size, b) < 0 || b->total_len != v->mv_size)
        return -EIO;
    return 0;
}

/* ---- the in-memory table ---- */

static size_t part_hash(const uint8_t tid[16], int32_t partition) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ tid[i]) * 1099511628211ull;
    uint32_t pp = (uint32_t)partition;
    for (int i = 0; i < 4; i++)
        h = (h ^ ((pp >> (8 * i)) & 0xff)) * 1099511628211ull;
    return (size_t)h;
}

static void table_free(void *ctx) {
    struct plog_table *t = ctx;
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct plog_entry *e = t->buckets[i];
        while (e) {
            struct plog_entry *nx = e->next;
            free(e);
            e = nx;
        }
    }
    free(t->buckets);
    free(t);
}

static struct plog_table *table_get(br_store *s) {
    struct plog_table *t = br_store_ctx(s, BR_STORE_CTX_PLOG);
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->n_buckets = 64;
    t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    br_store_set_ctx(s, BR_STORE_CTX_PLOG, t, table_free);
    return t;
}

static struct plog_entry **table_slot(struct plog_table *t, const uint8_t tid[16],
                                      int32_t partition) {
    struct plog_entry **pe = &t->buckets[part_hash(tid, partition) & (t->n_buckets - 1)];
    while (*pe && ((*pe)->part.partition != partition || memcmp((*pe)->part.topic_id, tid, 16)))
        pe = &(*pe)->next;
    return pe;
}

static void table_grow(struct plog_table *t) {
    size_t nb = t->n_buckets * 2;
    struct plog_entry **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* stay at the old size: slower chains, still correct */
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct plog_entry *e = t->buckets[i];
        while (e) {
            struct plog_entry *nx = e->next;
            size_t h = part_hash(e->part.topic_id, e->part.partition) & (nb - 1);
            e->next = b[h];
            b[h] = e;
            e = nx;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = nb;
}

static void table_insert(struct plog_table *t, struct plog_entry *e) {
    if (t->count >= t->n_buckets)
        table_grow(t);
    struct plog_entry **pe = table_slot(t, e->part.topic_id, e->part.partition);
    e->next = NULL;
    *pe = e;
    t->count++;
}

/* ---- open / recover ---- */

/* Recover log_start, high watermark and bytes of a stored partition by one
 * scan of its keys (values are only parsed for the first and last batch). */
static int recover(br_store *s, MDB_txn *txn, br_part *p, int64_t stored_start) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, br_store_dbi(s, "log"), &cur);
    if (rc)
        return br_store_error(rc);
    uint8_t kb[LOG_KEY_LEN];
    plog_log_key(kb, p->part_id, 0);
    MDB_val k = {LOG_KEY_LEN, kb}, v;
    int64_t first = -1, end = stored_start, bytes = 0, base;
    int r = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && plog_key_is_part(&k, p->part_id, &base);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        kafka_batch b;
        if ((r = val_batch(&v, &b)) < 0)
            break;
        if (first < 0)
            first = base;
        end = base + b.last_offset_delta + 1;
        bytes += (int64_t)v.mv_size;
    }
    if (r == 0 && rc != 0 && rc != MDB_NOTFOUND)
        r = br_store_error(rc);
    mdb_cursor_close(cur);
    if (r < 0)
        return r;
    /* The stored log_start wins when retention cut inside the first batch. */
    int64_t start = first < 0 || stored_start > first ? stored_start : first;
    if (end < start)
        end = start;
    atomic_store(&p->log_start, start);
    atomic_store(&p->high_watermark, end);
    atomic_store(&p->bytes, bytes);
    p->next_offset = end;
    return 0;
}

static int load_part(br_store *s, struct plog_table *t, const uint8_t tid[16],
                     int32_t partition, br_part **out) {
    MDB_txn *txn;
    int r = br_store_read_begin(s, &txn);
    if (r < 0)
        return r;
    uint8_t kb[PART_KEY_LEN];
    plog_part_key(kb, tid, partition);
    MDB_val k = {PART_KEY_LEN, kb}, v;
    uint32_t part_id = 0;
    int64_t start = 0;
    r = br_store_error(mdb_get(txn, br_store_dbi(s, "parts"), &k, &v));
    if (r == 0)
        r = plog_rec_decode(&v, &part_id, &start);
    struct plog_entry *e = NULL;
    if (r == 0) {
        e = calloc(1, sizeof *e);
        if (!e)
            r = -ENOMEM;
    }
    if (r == 0) {
        memcpy(e->part.topic_id, tid, 16);
        e->part.partition = partition;
        e->part.part_id = part_id;
        r = recover(s, txn, &e->part, start);
    }
    br_store_read_end(s, txn);
    if (r < 0) {
        free(e);
        return r;
    }
    table_insert(t, e);
    *out = &e->part;
    return 0;
}

/* Allocate a part_id and write an empty partition record. */
static int create_part(br_store *s, struct plog_table *t, const uint8_t tid[16],
                       int32_t partition, br_part **out) {
    struct plog_entry *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    MDB_txn *txn;
    int rc = mdb_txn_begin(br_store_env(s), NULL, 0, &txn);
    if (rc) {
        free(e);
        return br_store_error(rc);
    }
    MDB_val mk = {sizeof META_NEXT_PART_ID - 1, (void *)META_NEXT_PART_ID}, mv;
    uint32_t id = 1; /* 0 is never used: keeps an all-zero key meaningless */
    rc = mdb_get(txn, br_store_dbi(s, "meta"), &mk, &mv);
    if (rc == 0 && mv.mv_size == 4)
        id = be_get32(mv.mv_data);
    else if (rc == 0)
        rc = MDB_CORRUPTED;
    else if (rc == MDB_NOTFOUND)
        rc = 0;
    uint8_t idb[4], kb[PART_KEY_LEN], rb[PART_REC_LEN];
    if (rc == 0 && id == UINT32_MAX)
        rc = MDB_MAP_FULL; /* ids exhausted: report as out of space */
    if (rc == 0) {
        be_put32(idb, id + 1);
        mv.mv_size = 4;
        mv.mv_data = idb;
        rc = mdb_put(txn, br_store_dbi(s, "meta"), &mk, &mv, 0);
    }
    if (rc == 0) {
        plog_part_key(kb, tid, partition);
        plog_rec_encode(rb, id, 0);
        MDB_val k = {PART_KEY_LEN, kb}, v = {PART_REC_LEN, rb};
        rc = mdb_put(txn, br_store_dbi(s, "parts"), &k, &v, MDB_NOOVERWRITE);
    }
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc) {
        free(e);
        return br_store_error(rc);
    }
    memcpy(e->part.topic_id, tid, 16);
    e->part.partition = partition;
    e->part.part_id = id;
    table_insert(t, e);
    *out = &e->part;
    return 0;
}

int br_plog_open(br_store *s, const uint8_t topic_id[16], int32_t partition, bool create,
                 br_part **out) {
    struct plog_table *t = table_get(s);
    if (!t)
        return -ENOMEM;
    struct plog_entry *e = *table_slot(t, topic_id, partition);
    if (e) {
        *out = &e->part;
        return 0;
    }
    int r = load_part(s, t, topic_id, partition, out);
    if (r == -ENOENT && create)
        r = create_part(s, t, topic_id, partition, out);
    return r;
}

int br_plog_list(br_store *s, void (*fn)(const uint8_t topic_id[16], int32_t partition, void *arg),
                 void *arg) {
    MDB_txn *txn;
    int r = br_store_read_begin(s, &txn);
    if (r < 0)
        return r;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, br_store_dbi(s, "parts"), &cur);
    if (rc == 0) {
        MDB_val k, v;
        while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
            if (k.mv_size != PART_KEY_LEN)
                continue; /* not ours: another module's key in a shared db */
            const uint8_t *kp = k.mv_data;
            fn(kp, (int32_t)be_get32(kp + 16), arg);
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    br_store_read_end(s, txn);
    return br_store_error(rc);
}

/* ---- drop / truncate ---- */

/* Delete log keys of @p part_id, in order, while @p keep_from (-1: delete
 * all) says so; *freed gets the bytes deleted. */
static int delete_batches(br_store *s, MDB_txn *txn, uint32_t part_id, int64_t keep_from,
                          int64_t *freed) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, br_store_dbi(s, "log"), &cur);
    if (rc)
        return br_store_error(rc);
    uint8_t kb[LOG_KEY_LEN];
    int r = 0;
    *freed = 0;
    for (;;) {
        /* Re-seek after each delete: simpler than reasoning about where a
         * cursor stands after mdb_cursor_del, and O(log n) either way. */
        plog_log_key(kb, part_id, 0);
        MDB_val k = {LOG_KEY_LEN, kb}, v;
        int64_t base;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND || (rc == 0 && !plog_key_is_part(&k, part_id, &base))) {
            rc = 0;
            break;
        }
        if (rc)
            break;
        if (keep_from >= 0) {
            kafka_batch b;
            if ((r = val_batch(&v, &b)) < 0)
                break;
            if (base + b.last_offset_delta >= keep_from)
                break; /* this batch holds keep_from: it stays */
        }
        size_t sz = v.mv_size;
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        *freed += (int64_t)sz;
    }
    mdb_cursor_close(cur);
    return r < 0 ? r : br_store_error(rc);
}

int br_plog_drop(br_store *s, const uint8_t topic_id[16], int32_t partition) {
    struct plog_table *t = table_get(s);
    if (!t)
        return -ENOMEM;
    MDB_txn *txn;
    int rc = mdb_txn_begin(br_store_env(s), NULL, 0, &txn);
    if (rc)
        return br_store_error(rc);
    uint8_t kb[PART_KEY_LEN];
    plog_part_key(kb, topic_id, partition);
    MDB_val k = {PART_KEY_LEN, kb}, v;
    uint32_t part_id = 0;
    int64_t start, freed;
    int r = br_store_error(mdb_get(txn, br_store_dbi(s, "parts"), &k, &v));
    if (r == 0)
        r = plog_rec_decode(&v, &part_id, &start);
    if (r == 0)
        r = delete_batches(s, txn, part_id, -1, &freed);
    if (r == 0)
        r = br_store_error(mdb_del(txn, br_store_dbi(s, "parts"), &k, NULL));
    if (r < 0) {
        mdb_txn_abort(txn);
        return r;
    }
    if ((r = br_store_error(mdb_txn_commit(txn))) < 0)
        return r;
    struct plog_entry **pe = table_slot(t, topic_id, partition);
    if (*pe) {
        struct plog_entry *e = *pe;
        *pe = e->next;
        t->count--;
        free(e);
    }
    return 0;
}

int br_plog_truncate_head(br_store *s, MDB_txn *txn, br_part *p, int64_t new_start) {
    if (new_start <= atomic_load(&p->log_start))
        return 0;
    if (new_start > p->next_offset)
        return -ERANGE;
    int64_t freed;
    int r = delete_batches(s, txn, p->part_id, new_start, &freed);
    if (r < 0)
        return r;
    uint8_t kb[PART_KEY_LEN], rb[PART_REC_LEN];
    plog_part_key(kb, p->topic_id, p->partition);
    plog_rec_encode(rb, p->part_id, new_start);
    MDB_val k = {PART_KEY_LEN, kb}, v = {PART_REC_LEN, rb};
    r = br_store_error(mdb_put(txn, br_store_dbi(s, "parts"), &k, &v, 0));
    if (r < 0)
        return r;
    atomic_store(&p->log_start, new_start);
    atomic_fetch_sub(&p->bytes, freed);
    return 0;
}

/* ---- append ---- */

int br_plog_append(br_store *s, MDB_txn *txn, br_part *p, uint8_t *batches, size_t len,
                   int32_t leader_epoch, int64_t log_append_time, int64_t *base_offset) {
    kafka_batch b;
    size_t off = 0;
    int r;
    /* Check the framing first so that a bad payload writes nothing. */
    while ((r = kafka_records_next(batches, len, &off, &b)) == 1) {
    }
    if (r < 0 || off != len || len == 0)
        return -EINVAL;
    MDB_dbi dbi = br_store_dbi(s, "log");
    int64_t next = p->next_offset;
    off = 0;
    while (kafka_records_next(batches, len, &off, &b) == 1) {
        uint8_t *bp = (uint8_t *)b.start;
        kafka_batch_set_base_offset(bp, next);
        kafka_batch_set_leader_epoch(bp, leader_epoch);
        if (log_append_time >= 0)
            kafka_batch_set_log_append_time(bp, b.total_len, log_append_time);
        uint8_t kb[LOG_KEY_LEN];
        plog_log_key(kb, p->part_id, next);
        MDB_val k = {LOG_KEY_LEN, kb}, v = {b.total_len, bp};
        /* NOOVERWRITE: an offset reused by a bug must fail, not replace data. */
        int rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
        if (rc)
            return br_store_error(rc);
        next += (int64_t)b.last_offset_delta + 1;
    }
    *base_offset = p->next_offset;
    p->next_offset = next;
    return 0;
}

void br_plog_publish(br_part *p, int64_t added_bytes) {
    atomic_store(&p->high_watermark, p->next_offset);
    if (added_bytes)
        atomic_fetch_add(&p->bytes, added_bytes);
}

/* ---- reads ---- */

/* Position @p cur on the batch of @p part_id that contains @p offset, or
 * else the first batch after it. Returns 0 with *k / *v, -ENOENT when there
 * is none, or -errno. */
static int seek_batch(MDB_cursor *cur, uint32_t part_id, int64_t offset, MDB_val *k,
                      MDB_val *v) {
    uint8_t kb[LOG_KEY_LEN];
    int64_t base;
    plog_log_key(kb, part_id, offset);
    k->mv_size = LOG_KEY_LEN;
    k->mv_data = kb;
    int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    if (rc == 0 && plog_key_is_part(k, part_id, &base) && base == offset)
        return 0;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return br_store_error(rc);
    /* Not a batch start: the containing batch, if any, is the one before. */
    int rc2 = mdb_cursor_get(cur, k, v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    if (rc2 == 0 && plog_key_is_part(k, part_id, &base)) {
        kafka_batch b;
        int r = val_batch(v, &b);
        if (r < 0)
            return r;
        if (base + b.last_offset_delta >= offset)
            return 0;
    } else if (rc2 != 0 && rc2 != MDB_NOTFOUND) {
        return br_store_error(rc2);
    }
    /* A gap (offset inside no batch): answer from the next batch. */
    plog_log_key(kb, part_id, offset);
    k->mv_size = LOG_KEY_LEN;
    k->mv_data = kb;
    rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    if (rc == 0 && plog_key_is_part(k, part_id, &base))
        return 0;
    return rc == 0 || rc == MDB_NOTFOUND ? -ENOENT : br_store_error(rc);
}

/* Batches at least this big go out by reference to the LMDB map (one
 * evbuffer chain each); smaller ones are cheaper to copy than to chain. */
#define READ_BY_REF_MIN 4096
/* In held reads, batches at least this big go out as sendfile() segments:
 * libevent sends one segment per write callback, a loop turn each, which
 * costs about what the kernel's copy of this many bytes costs. */
#define READ_BY_FILE_MIN (32u << 10)

/* Append the batches of @p p from @p offset (below @p hw) read under @p txn.
 * With @p pin, large batches go by reference to the map (each chain takes a
 * pin reference), and with @p by_file the largest as file segments, under
 * the caller's pin. */
static int read_batches(br_store *s, MDB_txn *txn, br_pin *pin, bool by_file, br_part *p,
                        int64_t offset, int64_t hw, size_t max_bytes, struct evbuffer *out,
                        size_t *n) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, br_store_dbi(s, "log"), &cur);
    if (rc)
        return br_store_error(rc);
    MDB_val k, v;
    int64_t base;
    int r = seek_batch(cur, p->part_id, offset, &k, &v);
    while (r == 0 && plog_key_is_part(&k, p->part_id, &base) && base < hw) {
        /* KIP-74: the first batch goes out even when larger than max_bytes. */
        if (*n > 0 && v.mv_size > max_bytes - *n)
            break;
        if (by_file && v.mv_size >= READ_BY_FILE_MIN) {
            if ((r = br_store_add_file_ref(s, out, v.mv_data, v.mv_size)) < 0)
                break;
        } else if (pin && v.mv_size >= READ_BY_REF_MIN) {
            br_pin_ref(pin);
            if (evbuffer_add_reference(out, v.mv_data, v.mv_size, br_pin_evbuffer_cleanup,
                                       pin) < 0) {
                br_pin_unref(pin);
                r = -ENOMEM;
                break;
            }
        } else if (evbuffer_add(out, v.mv_data, v.mv_size) < 0) {
            r = -ENOMEM;
            break;
        }
        *n += v.mv_size;
        if (*n >= max_bytes)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        if (rc == MDB_NOTFOUND)
            break;
        r = br_store_error(rc);
    }
    if (r == -ENOENT)
        r = 0; /* nothing stored from offset on (all below hw was cut) */
    mdb_cursor_close(cur);
    return r;
}

/* The high watermark, or -ERANGE / 0 (nothing to read) through *r. */
static bool read_range(br_part *p, int64_t offset, int64_t *hw, int *r) {
    *hw = atomic_load(&p->high_watermark);
    int64_t start = atomic_load(&p->log_start);
    *r = offset < start || offset > *hw ? -ERANGE : 0;
    return *r == 0 && offset < *hw;
}

int br_plog_read(br_store *s, br_part *p, int64_t offset, size_t max_bytes,
                 struct evbuffer *out, size_t *n) {
    /* hw is loaded before the transaction starts: every batch below it was
     * committed before it was published, so the snapshot holds it. */
    int64_t hw;
    int r;
    *n = 0;
    if (!read_range(p, offset, &hw, &r))
        return r;
    /* A pinned snapshot lets the bytes leave without a copy; when all pins
     * are taken (many slow readers), fall back to a copy. */
    MDB_txn *txn;
    br_pin *pin = NULL;
    r = br_store_pin_begin(s, &pin, &txn);
    if (r == -EBUSY)
        r = br_store_read_begin(s, &txn);
    if (r < 0)
        return r;
    r = read_batches(s, txn, pin, false, p, offset, hw, max_bytes, out, n);
    if (pin)
        br_pin_unref(pin); /* the chains added keep their own references */
    else
        br_store_read_end(s, txn);
    return r;
}

int br_plog_read_held(br_store *s, br_pin *pin, MDB_txn *txn, br_part *p, int64_t offset,
                      size_t max_bytes, struct evbuffer *out, size_t *n) {
    int64_t hw;
    int r;
    *n = 0;
    if (!read_range(p, offset, &hw, &r))
        return r;
    /* The snapshot may predate hw (begun for several partitions): batches
     * committed since are simply not there, and the read ends before them. */
    return read_batches(s, txn, pin, true, p, offset, hw, max_bytes, out, n);
}

int br_plog_offset_for_time(br_store *s, br_part *p, int64_t ts, int64_t *offset,
                            int64_t *ts_found) {
    int64_t hw = atomic_load(&p->high_watermark);
    int64_t start = atomic_load(&p->log_start);
    *offset = -1;
    *ts_found = -1;
    if (start >= hw)
        return 0;
    MDB_txn *txn;
    int r = br_store_read_begin(s, &txn);
    if (r < 0)
        return r;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, br_store_dbi(s, "log"), &cur);
    if (rc) {
        br_store_read_end(s, txn);
        return br_store_error(rc);
    }
    MDB_val k, v;
    int64_t base;
    r = seek_batch(cur, p->part_id, start, &k, &v);
    while (r == 0 && plog_key_is_part(&k, p->part_id, &base) && base < hw) {
        kafka_batch b;
        int64_t o, t;
        if ((r = val_batch(&v, &b)) < 0)
            break;
        int f = kafka_batch_find_time(&b, ts, &o, &t);
        if (f < 0) {
            r = -EIO;
            break;
        }
        if (f == 1) {
            /* A batch cut by retention: its first readable offset is start. */
            *offset = o < start ? start : o;
            *ts_found = t;
            break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        if (rc == MDB_NOTFOUND)
            break;
        r = br_store_error(rc);
    }
    if (r == -ENOENT)
        r = 0;
    mdb_cursor_close(cur);
    br_store_read_end(s, txn);
    return r;
}
