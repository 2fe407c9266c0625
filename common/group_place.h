/* group_place.h — where a consumer group lives: the partition of the
 * internal topic __consumer_offsets that holds its coordinator and its
 * committed offsets. The frontend routes with it and the broker checks its
 * ownership with it, so both must compute the same value: keep it here. */
#ifndef EDDY_GROUP_PLACE_H
#define EDDY_GROUP_PLACE_H

#include <stddef.h>
#include <stdint.h>

/** The internal topic that places groups. */
#define GROUP_OFFSETS_TOPIC "__consumer_offsets"
/** Its partition count (fixed: changing it would move every group). */
#define GROUP_OFFSETS_PARTITIONS 16

/** The __consumer_offsets partition of group @p id (@p len bytes):
 *  FNV-1a 32 of the id, modulo GROUP_OFFSETS_PARTITIONS. */
static inline int32_t group_place_partition(const char *id, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)id[i];
        h *= 16777619u;
    }
    return (int32_t)(h % GROUP_OFFSETS_PARTITIONS);
}

#endif
