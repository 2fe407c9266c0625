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

#define PART_REC_VERSION 1
#define PART_REC_LEN 16
#define PART_KEY_LEN 20
#define LOG_KEY_LEN 12

static inline void plog_put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline uint32_t plog_get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void plog_put_be64(uint8_t *p, int64_t v) {
    plog_put_be32(p, (uint32_t)((uint64_t)v >> 32));
    plog_put_be32(p + 4, (uint32_t)v);
}
static inline int64_t plog_get_be64(const uint8_t *p) {
    return (int64_t)((uint64_t)plog_get_be32(p) << 32 | plog_get_be32(p + 4));
}

static inline void plog_part_key(uint8_t k[PART_KEY_LEN], const uint8_t tid[16],
                                 int32_t partition) {
    memcpy(k, tid, 16);
    plog_put_be32(k + 16, (uint32_t)partition);
}

static inline void plog_log_key(uint8_t k[LOG_KEY_LEN], uint32_t part_id, int64_t base) {
    plog_put_be32(k, part_id);
    plog_put_be64(k + 4, base);
}

/* Is @p k a "log" key of @p part_id? Sets *base when it is. */
static inline bool plog_key_is_part(const MDB_val *k, uint32_t part_id, int64_t *base) {
    if (k->mv_size != LOG_KEY_LEN || plog_get_be32(k->mv_data) != part_id)
        return false;
    *base = plog_get_be64((const uint8_t *)k->mv_data + 4);
    return true;
}

static inline int plog_rec_decode(const MDB_val *v, uint32_t *part_id, int64_t *log_start) {
    const uint8_t *p = v->mv_data;
    if (v->mv_size < PART_REC_LEN || p[0] != PART_REC_VERSION)
        return -EIO; /* written by a newer or broken version: refuse */
    *part_id = plog_get_be32(p + 4);
    *log_start = plog_get_be64(p + 8);
    return 0;
}

static inline void plog_rec_encode(uint8_t r[PART_REC_LEN], uint32_t part_id, int64_t log_start) {
    memset(r, 0, PART_REC_LEN);
    r[0] = PART_REC_VERSION;
    plog_put_be32(r + 4, part_id);
    plog_put_be64(r + 8, log_start);
}

#endif
