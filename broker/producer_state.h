/* producer_state.h — idempotent producers: per partition and producer id,
 * the producer epoch and the last five batches (first sequence, last
 * sequence, base offset), so that a batch resent after a lost answer is
 * acknowledged with its original offset instead of being appended twice,
 * and a gap in a producer's sequence is refused (Kafka's rules, KIP-98 and
 * KIP-360; docs/delivery.md).
 *
 * The state lives only in the LMDB database "producers":
 *   key   part_id uint32 BE | producer_id int64 BE   (a partition's producers
 *         are one key range, in producer id order)
 *   value see br_prod_encode()
 * It is read and written by the writer thread inside the group transaction
 * that appends the batch (br_producers_append(), called by commit.c), so the
 * state and the log change together or not at all, survive a restart with
 * nothing to load, and roll back with the transaction when a group is
 * replayed. The loop thread reads it with short read transactions
 * (DescribeProducers).
 *
 * Also the controller's producer id allocator (ALLOC_PRODUCER_ID). */
#ifndef EDDY_BR_PRODUCER_STATE_H
#define EDDY_BR_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "commit.h"
#include "rpc.h"
#include "store.h"

struct br_server;

#define BR_PRODUCERS_DB "producers"
/** Batches remembered per producer for duplicate detection (Kafka: 5, the
 *  most a client may have in flight with idempotence). */
#define BR_PRODUCER_BATCHES 5
/** producer.id.expiration.ms: state of a producer silent this long is
 *  forgotten (Kafka's default, 1 day). */
#define BR_PRODUCER_ID_EXPIRATION_MS 86400000LL
/** Largest encoded state value. */
#define BR_PROD_VALUE_MAX (24 + 16 * BR_PRODUCER_BATCHES)

/** What the rules say about one produced batch. */
typedef enum br_prod_verdict {
    BR_PROD_PLAIN = 0,       /* no producer id: append, keep no state */
    BR_PROD_APPEND = 1,      /* in sequence, a new producer or a new epoch: append */
    BR_PROD_DUPLICATE = 2,   /* one of the last batches again: its original offset */
    BR_PROD_OUT_OF_ORDER = 3, /* refused: OUT_OF_ORDER_SEQUENCE_NUMBER */
    BR_PROD_STALE_EPOCH = 4, /* refused: INVALID_PRODUCER_EPOCH */
    BR_PROD_INVALID = 5,     /* refused: bad producer fields, or an idempotent
                                batch that is not alone in its partition data */
} br_prod_verdict;

typedef struct br_prod_batch {
    int32_t first_seq, last_seq;
    int64_t base_offset;
} br_prod_batch;

/** One producer's state on one partition. */
typedef struct br_prod_entry {
    int16_t epoch;
    int64_t last_write_ms;    /* broker wall clock of the last append (expiry) */
    int64_t last_timestamp;   /* maxTimestamp of the last batch */
    int n;                    /* batches remembered, oldest first */
    br_prod_batch batches[BR_PRODUCER_BATCHES];
} br_prod_entry;

/* ---- the rules (pure: no storage, for unit tests) ---- */

/** The last sequence of a batch of @p last_offset_delta + 1 records starting
 *  at @p first_seq (sequences wrap from INT32_MAX to 0). */
int32_t br_prod_last_seq(int32_t first_seq, int32_t last_offset_delta);

/** Judge a batch (producer @p epoch, sequences @p first_seq..@p last_seq)
 *  against the producer's state @p e (NULL: none known, or expired).
 *  BR_PROD_DUPLICATE sets *dup_base to the original base offset. Never
 *  returns BR_PROD_PLAIN. */
br_prod_verdict br_prod_check(const br_prod_entry *e, int16_t epoch, int32_t first_seq,
                              int32_t last_seq, int64_t *dup_base);

/** Record an appended batch in @p e (reset first when @p known is false or
 *  the epoch changed), keeping the last BR_PRODUCER_BATCHES batches. */
void br_prod_record(br_prod_entry *e, bool known, int16_t epoch, int32_t first_seq,
                    int32_t last_seq, int64_t base_offset, int64_t max_timestamp,
                    int64_t now_ms);

/** True when @p e was last written @p expiration_ms or more before @p now_ms. */
bool br_prod_expired(const br_prod_entry *e, int64_t now_ms, int64_t expiration_ms);

/** Encode @p e into @p buf (BR_PROD_VALUE_MAX bytes at least); returns the
 *  length. Layout (big-endian): version 1 | 0 | epoch i16 | last_write i64 |
 *  last_timestamp i64 | n u8 | 3 zero bytes | n x (first i32, last i32,
 *  base i64). */
size_t br_prod_encode(const br_prod_entry *e, uint8_t *buf);
/** Decode a stored value. Returns 0 or -EIO (damaged or from a newer
 *  version). */
int br_prod_decode(const void *p, size_t len, br_prod_entry *out);

/* ---- storage (broker) ---- */

/** Open (create) the "producers" database: once at start, before the
 *  committer runs. Returns 0 or -errno. */
int br_producers_open(br_store *s);

/** Writer thread, inside the group transaction @p txn: apply the rules to
 *  @p it's batches, then append them (br_plog_append) and record the new
 *  state, or not. Sets it->producer to the verdict. Returns 0 when appended
 *  or a duplicate (it->base_offset set either way; a duplicate wrote
 *  nothing), 1 when refused (nothing written, the transaction is still
 *  usable), or -errno (the transaction must be aborted). Batches without a
 *  producer id are appended as they are. */
int br_producers_append(br_store *s, MDB_txn *txn, br_append *it, int64_t now_ms);

/** Writer thread, inside @p txn: rebuild the state of partition @p part_id
 *  from whole batches stored as they are, in log order (@p batches, @p len
 *  bytes: the copy of a partition move, plog_copy.h), as the owner recorded
 *  it when it appended them, so that a batch resent to the new owner after
 *  a move is still known as a duplicate. Batches without a producer id are
 *  skipped. Returns 0 or -errno (the transaction must be aborted). */
int br_producers_replay(br_store *s, MDB_txn *txn, uint32_t part_id, const uint8_t *batches,
                        size_t len, int64_t now_ms);

/** Call @p fn for each producer of partition @p part_id not expired at
 *  @p now_ms, in producer id order, inside the read transaction @p txn.
 *  Returns 0 or -errno. */
int br_producers_list(br_store *s, MDB_txn *txn, uint32_t part_id, int64_t now_ms,
                      void (*fn)(int64_t producer_id, const br_prod_entry *e, void *arg),
                      void *arg);

/** DESCRIBE_PRODUCERS on a partition owner (loop thread). Ends @p call. */
void br_producers_describe(struct br_server *s, rpc_call *call);

/** The RPC status for a refusal verdict (OK for the others). */
int br_producers_status(br_prod_verdict v);

/* ---- producer ids (controller) ---- */

/** The controller's producer id allocator: ids are handed out from blocks
 *  whose end is persisted (meta key "producer_ids.next") before any id of
 *  the block is given, so an id is never given twice, even across a crash
 *  (a restart skips the rest of the block). */
typedef struct br_producer_ids {
    bool loaded;
    int64_t next, limit;      /* next id to give; end of the persisted block */
} br_producer_ids;

/** Ids per persisted block. */
#define BR_PRODUCER_ID_BLOCK 1000

/** Give a new producer id (*epoch 0), or, for @p producer_id >= 0 already
 *  handed out with @p epoch >= 0, the same id at epoch + 1 (KIP-360). An id
 *  never handed out, a bad or exhausted epoch get a new id. Loop thread (a
 *  new block is one small durable write). Returns 0 or -errno. */
int br_producer_ids_alloc(br_store *s, br_producer_ids *ids, int64_t producer_id,
                          int32_t epoch, int64_t *out_id, int16_t *out_epoch);

/** ALLOC_PRODUCER_ID on the controller. Ends @p call. */
void br_producer_ids_handle(br_store *s, br_producer_ids *ids, rpc_call *call);

#endif
