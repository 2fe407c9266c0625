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

struct evbuffer;

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
/** Close the environment. Accepts NULL. No transaction may be open (the
 *  committer must be stopped). In nosync mode the environment is synced
 *  first, so a clean shutdown loses nothing. */
void br_store_close(br_store *s);

/** Map an LMDB return code to 0 or -errno (the only such mapping). */
int br_store_error(int mdb_rc);

/** The environment and the named databases, for modules of broker/. */
MDB_env *br_store_env(br_store *s);
/** The handle of "meta", "parts", "log" or a name opened with
 *  br_store_open_db(). Any other name is a bug of the caller: aborts. */
MDB_dbi br_store_dbi(br_store *s, const char *name);
bool br_store_is_sync(const br_store *s);

/** Read a metadata value: *val is a malloc'd copy the caller frees.
 *  Loop thread only (uses the store's read handle). Returns 0, -ENOENT or
 *  -errno. */
int br_store_meta_get(br_store *s, const char *key, void **val, size_t *len);
/** Write a metadata value in its own durable transaction (synced even in
 *  nosync mode). Meant for rare writes (startup, catalog changes), not the
 *  data path: it waits for the writer thread's current transaction. Not from
 *  the writer thread itself (use br_commit_submit_fn there). */
int br_store_meta_put(br_store *s, const char *key, const void *val, size_t len);

/** Open (creating if needed) another named database, for modules that keep
 *  their own (group offsets, producer state). At most 16 databases in all.
 *  Call from the loop thread at start, before the committer runs. The name
 *  is copied; br_store_dbi() knows it afterwards. Returns 0 or -errno. */
int br_store_open_db(br_store *s, const char *name, MDB_dbi *out);

/** Begin a short read-only transaction (loop thread only). Reuses one
 *  reset/renewed handle per store; a nested call gets a fresh transaction.
 *  End every successful begin with br_store_read_end(). Returns 0 or -errno. */
int br_store_read_begin(br_store *s, MDB_txn **txn);
/** End a read transaction from br_store_read_begin(). Accepts NULL. */
void br_store_read_end(br_store *s, MDB_txn *txn);

/** A read transaction whose end waits for the last reference to bytes read
 *  under it, so LMDB-mapped values can go into an evbuffer by reference
 *  (evbuffer_add_reference) and be written to a socket without a copy. While
 *  a pin lives, LMDB cannot reuse the pages it sees: pins are for data on
 *  its way out, never for holding state. At most BR_STORE_PINS_MAX live at
 *  once; beyond that br_store_pin_begin says -EBUSY and the caller copies.
 *  Begin on the loop thread; refs may be dropped on any thread. */
typedef struct br_pin br_pin;
enum { BR_STORE_PINS_MAX = 64 };
/** Begin a pinned read: *pin holds one reference, *txn is its transaction
 *  (valid until the last br_pin_unref). Returns 0, -EBUSY or -errno. */
int br_store_pin_begin(br_store *s, br_pin **pin, MDB_txn **txn);
void br_pin_ref(br_pin *pin);
/** Drop a reference; the last one ends the transaction. */
void br_pin_unref(br_pin *pin);
/** evbuffer_add_reference cleanup: drops the reference taken for that chunk. */
void br_pin_evbuffer_cleanup(const void *data, size_t len, void *pin);

/** Append the @p len bytes at @p data, a value read under a pin, to @p out
 *  as a segment of the data file that a socket bufferevent's write sends
 *  with sendfile(): no copy in this process, and the pages are referenced,
 *  not copied, until the peer reads them. So the caller keeps the pin until
 *  the peer has read the bytes, not merely until they left (see
 *  rpc_call_reply_held). @p out needs EVBUFFER_FLAG_DRAINS_TO_FD (else
 *  libevent would read the file into memory). Returns 0, -ENOTSUP when this
 *  libevent has no sendfile, or -ENOMEM. */
int br_store_add_file_ref(br_store *s, struct evbuffer *out, const void *data, size_t len);

/** Per-store state of other broker modules (plog's partition table), freed
 *  by br_store_close() with @p free_fn (in reverse slot order, before the
 *  environment closes). Loop thread only. */
enum { BR_STORE_CTX_PLOG = 0, BR_STORE_CTX_MAX = 4 };
void *br_store_ctx(br_store *s, int slot);
void br_store_set_ctx(br_store *s, int slot, void *ctx, void (*free_fn)(void *ctx));

/** Environment figures for stats. */
typedef struct br_store_stats {
    size_t map_size, page_size, last_page, max_readers, num_readers;
    size_t pins_live;      /* pinned reads not yet ended */
    uint64_t file_bytes;   /* bytes added by br_store_add_file_ref since open */
} br_store_stats;
int br_store_get_stats(br_store *s, br_store_stats *out);

#endif
