/* plog_format.h — the on-disk layout of partition logs, for the modules that
 * read or write it (plog.c, plog_copy.c, logscan.c). Header-only.
 *
 * "parts" key (20 bytes): topic_id(16) + partition int32 BE.
 * "parts" value (16 bytes, big-endian):
 *   0 version (1)   1..3 zero   4 part_id uint32   8 log_start int64
 * "log" key (12 bytes): part_id uint32 BE + base_offset int64 BE. Offsets are
 * never negative, so byte order is offset order and one cursor walks a
 * partition's batches in order; part_id as prefix keeps each partition's
 * batches together. */
#ifndef EDDY_BR_PLOG_FORMAT_H
#define EDDY_BR_PLOG_FORMAT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "byteorder.h"

#define PART_REC_VERSION 1
#define PART_REC_LEN 16
#define PART_KEY_LEN 20
#define LOG_KEY_LEN 12

static inline void plog_part_key(uint8_t k[PART_KEY_LEN], const uint8_t tid[16],
                                 int32_t partition) {
    memcpy(k, tid, 16);
    be_put32(k + 16, (uint32_t)partition);
}

static inline void plog_log_key(uint8_t k[LOG_KEY_LEN], uint32_t part_id, int64_t base) {
    be_put32(k, part_id);
    be_put64(k + 4, (uint64_t)base);
}

/* Is @p k a "log" key of @p part_id? Sets *base when it is. */
static inline bool plog_key_is_part(const MDB_val *k, uint32_t part_id, int64_t *base) {
    if (k->mv_size != LOG_KEY_LEN || be_get32(k->mv_data) != part_id)
        return false;
    *base = (int64_t)be_get64((const uint8_t *)k->mv_data + 4);
    return true;
}

static inline int plog_rec_decode(const MDB_val *v, uint32_t *part_id, int64_t *log_start) {
    const uint8_t *p = v->mv_data;
    if (v->mv_size < PART_REC_LEN || p[0] != PART_REC_VERSION)
        return -EIO; /* written by a newer or broken version: refuse */
    *part_id = be_get32(p + 4);
    *log_start = (int64_t)be_get64(p + 8);
    return 0;
}

static inline void plog_rec_encode(uint8_t r[PART_REC_LEN], uint32_t part_id, int64_t log_start) {
    memset(r, 0, PART_REC_LEN);
    r[0] = PART_REC_VERSION;
    be_put32(r + 4, part_id);
    be_put64(r + 8, (uint64_t)log_start);
}

#endif
