/* map.h — the broker's copy of the cluster map: which broker owns which
 * partition, and the topics' configs. Indexed by topic id and by name so that
 * the per-partition ownership check of every request is O(1).
 * Loop thread only. */
#ifndef EDDY_BR_MAP_H
#define EDDY_BR_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eddy_rpc.pb-c.h"

typedef struct br_map br_map;

/** An empty map (version 0). NULL on OOM. */
br_map *br_map_new(void);
/** Accepts NULL. */
void br_map_free(br_map *m);

/** Replace the content with the packed ClusterMap @p buf. Returns 0, or
 *  -EBADMSG / -ENOMEM (the old content stays). */
int br_map_set_packed(br_map *m, const uint8_t *buf, size_t len);

/** The version of the map held (0: none yet). */
uint64_t br_map_version(const br_map *m);
/** The unpacked message (NULL when none yet). Valid until the next set. */
const Eddy__ClusterMap *br_map_get(const br_map *m);

/** Look a topic up by its 16-byte id, or by name. NULL when absent. */
const Eddy__TopicInfo *br_map_topic_by_id(const br_map *m, const uint8_t *id, size_t len);
const Eddy__TopicInfo *br_map_topic_by_name(const br_map *m, const char *name);
/** The placement of partition @p partition of @p t, or NULL. */
const Eddy__PartitionPlacement *br_map_placement(const Eddy__TopicInfo *t, int32_t partition);
/** A broker by id, or NULL. */
const Eddy__BrokerInfo *br_map_broker(const br_map *m, int32_t id);

/** The ownership check of a request's partition: the topic by id when
 *  @p topic_id is non-empty, else by @p name. Returns OK (with *t and *pl)
 *  when @p self owns it, NOT_OWNER when another broker does or the
 *  partition is fenced for a move (*t and *pl are set then too),
 *  UNKNOWN_PARTITION when there is no such topic or partition. */
Eddy__Status br_map_check(const br_map *m, int32_t self, const char *name,
                          const ProtobufCBinaryData *topic_id, int32_t partition,
                          const Eddy__TopicInfo **t, const Eddy__PartitionPlacement **pl);

/** A topic config value, or NULL when not set (the default applies). */
const char *br_map_config(const Eddy__TopicInfo *t, const char *name);
/** A numeric topic config, @p def when absent or unparsable. */
int64_t br_map_config_i64(const Eddy__TopicInfo *t, const char *name, int64_t def);

#endif
