/* offsets.h — committed offsets of consumer groups, in the LMDB database
 * "offsets" of the broker that coordinates the group:
 *
 *   key   u16 BE group length | group | u16 BE topic length | topic |
 *         i32 BE partition            (so a group's keys are one range)
 *   value i64 BE offset | i32 BE leader epoch | i64 BE commit time (ms) |
 *         u16 BE metadata length (0xFFFF: null) | metadata
 *
 * Writes run in the committer's writer thread (br_commit_submit_fn) and the
 * Kafka answer is sent once they are durable; reads are short read
 * transactions on the loop. Also the Kafka handlers of OffsetCommit,
 * OffsetFetch and OffsetDelete (called by group.c). */
#ifndef EDDY_BR_OFFSETS_H
#define EDDY_BR_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "group.h"
#include "store.h"

#define BR_OFFSETS_DB "offsets"
/** Longest commit metadata accepted (offset.metadata.max.bytes). */
#define BR_OFFSETS_MAX_METADATA 4096

/** One committed offset. Strings are views (into LMDB memory when read:
 *  valid until the transaction ends). */
typedef struct br_offset {
    const char *topic;
    size_t topic_len;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    int64_t commit_ms;
    const char *metadata;
    int32_t metadata_len;          /* -1: null */
} br_offset;

/** Open (create) the "offsets" database: once at start, before the
 *  committer runs. Returns 0 or -errno. */
int br_offsets_open(br_store *s);

/** Store @p o for @p group inside @p txn (writer thread). 0 or -errno. */
int br_offsets_put(br_store *s, MDB_txn *txn, const char *group, size_t glen, const br_offset *o);
/** Read one offset: 0, -ENOENT or -errno. */
int br_offsets_get(br_store *s, MDB_txn *txn, const char *group, size_t glen, const char *topic,
                   size_t tlen, int32_t partition, br_offset *out);
/** Call @p cb for every offset of @p group in key order (topic, partition);
 *  a negative return of @p cb stops and is returned. 0 or -errno. */
int br_offsets_foreach(br_store *s, MDB_txn *txn, const char *group, size_t glen,
                       int (*cb)(const br_offset *o, void *arg), void *arg);
/** Delete one offset (absent is fine): 0 or -errno. */
int br_offsets_del(br_store *s, MDB_txn *txn, const char *group, size_t glen, const char *topic,
                   size_t tlen, int32_t partition);
/** Delete every offset of @p group: 0 or -errno. */
int br_offsets_del_group(br_store *s, MDB_txn *txn, const char *group, size_t glen);
/** True when @p group has at least one committed offset. */
bool br_offsets_group_exists(br_store *s, MDB_txn *txn, const char *group, size_t glen);

/* Kafka handlers, answered through r->reply (after the commit for writes). */
void br_offsets_commit(br_groups *g, const br_group_req *r);
void br_offsets_fetch(br_groups *g, const br_group_req *r);
void br_offsets_delete(br_groups *g, const br_group_req *r);

#endif
