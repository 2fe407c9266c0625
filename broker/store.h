/* store.h — the broker's LMDB environment: open/close, the one place where
 * LMDB error codes become -errno, and a small key/value area for broker
 * metadata (its id, the controller's catalog).
 *
 * Layout inside the environment (named databases):
 *   "meta"   string key -> opaque value
 *   "parts"  topic_id(16) + partition(int32 BE) -> partition record
 *            (internal id, log start offset, ...)
 *   "log"    part_id(uint32 BE) + base_offset(int64 BE) -> one record batch
 * Other modules (group offsets, producer state) may add databases. */
#ifndef EDDY_BR_STORE_H
#define EDDY_BR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

typedef struct br_store br_store;

typedef struct br_store_opts {
    const char *dir;        /* data directory (created if missing) */
    size_t map_size;        /* LMDB map size in bytes; 0: 8 GiB */
    bool sync;              /* true: every commit is durable before it
                               completes (fdatasync); false: MDB_NOSYNC */
} br_store_opts;

/** Open (creating if needed) the environment in opts->dir. Returns 0 and
 *  *out, or -errno. The store owns the environment; close with
 *  br_store_close(). */
int br_store_open(const br_store_opts *opts, br_store **out);
/** Close the environment. Accepts NULL. No transaction may be open. */
void br_store_close(br_store *s);

/** Map an LMDB return code to 0 or -errno (the only such mapping). */
int br_store_error(int mdb_rc);

/** The environment and the named databases, for modules of broker/. */
MDB_env *br_store_env(br_store *s);
MDB_dbi br_store_dbi(br_store *s, const char *name);  /* "meta", "parts", "log" */
bool br_store_is_sync(const br_store *s);

/** Read a metadata value: *val is a malloc'd copy the caller frees.
 *  Returns 0, -ENOENT or -errno. */
int br_store_meta_get(br_store *s, const char *key, void **val, size_t *len);
/** Write a metadata value in its own durable transaction. Meant for rare
 *  writes (startup, catalog changes), not the data path. */
int br_store_meta_put(br_store *s, const char *key, const void *val, size_t len);

/** Environment figures for stats. */
typedef struct br_store_stats {
    size_t map_size, page_size, last_page, max_readers, num_readers;
} br_store_stats;
int br_store_get_stats(br_store *s, br_store_stats *out);

#endif
