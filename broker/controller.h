/* controller.h — the cluster catalog, held by the broker with
 * "controller_role": brokers (ids, addresses, liveness), topics (ids,
 * configs, partition placement and epochs), the map version and the cluster
 * id. Kept as one packed Eddy__ClusterMap under the store's meta key
 * "catalog", rewritten on every change.
 *
 * Loop thread only. Catalog writes use br_store_meta_put() on the loop: one
 * small durable write per change, and changes are rare (topic admin, broker
 * joins, liveness flips), so the loop may block for it rather than route
 * the catalog through the data path's committer. */
#ifndef EDDY_BR_CONTROLLER_H
#define EDDY_BR_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc.h"
#include "store.h"

typedef struct br_controller br_controller;

/** A broker not heard from for this long is marked dead. */
#define BR_CONTROLLER_DEAD_MS 10000
/** Largest partition count of a topic. */
#define BR_MAX_PARTITIONS 10000

/** Load the catalog from @p store, or create a fresh one (new cluster id,
 *  version 1). @p changed(arg) runs after every change of the map (not
 *  during open). Returns 0 and *out, or -errno. */
int br_controller_open(br_store *store, int32_t default_partitions,
                       void (*changed)(void *arg), void *arg, br_controller **out);
/** Accepts NULL. */
void br_controller_free(br_controller *c);

/** Register a broker: @p id -1 allocates the next id; a known id gets its
 *  addresses updated and is alive again; an unknown id >= 0 is added.
 *  @p stats_address and @p local_address (its local RPC socket's name,
 *  common/rpc_local.h) may be NULL or "" for none. *out_id gets the id.
 *  Returns 0 or -errno (catalog write failed). */
int br_controller_register(br_controller *c, int32_t id, const char *address,
                           const char *stats_address, const char *local_address,
                           int32_t *out_id);

/** Mark the controller's own broker id (always alive, the map's
 *  controller_id). */
void br_controller_set_self(br_controller *c, int32_t id);

/** Liveness: brokers silent for BR_CONTROLLER_DEAD_MS (monotonic @p now_ms)
 *  are marked dead. */
void br_controller_tick(br_controller *c, int64_t now_ms);

/** Balance partition counts automatically (liveness ticks plan moves
 *  whenever the alive brokers' counts differ by more than one). Off by
 *  default: then only REBALANCE starts moves. */
void br_controller_set_auto_rebalance(br_controller *c, bool on);

/** A move target's progress (MOVE_STATUS, also called directly when the
 *  target is the controller's own broker): a target within a small lag gets
 *  the owner fenced; a target done after the fence gets the ownership
 *  (epoch + 1). *map_version gets the version holding the result. Returns 0,
 *  -ENOENT (no such move: cancelled or stale epoch) or -errno (catalog
 *  write; nothing changed). */
int br_controller_move_status(br_controller *c, const Eddy__MoveStatus *st,
                              uint64_t *map_version);

/** Serve GET_MAP, REGISTER_BROKER, CREATE_TOPIC, DELETE_TOPIC,
 *  CREATE_PARTITIONS, MOVE_STATUS, REBALANCE; ends @p call. */
void br_controller_handle(br_controller *c, rpc_call *call);

/** The current packed map (owned by the controller, valid until the next
 *  change). */
void br_controller_packed(const br_controller *c, const uint8_t **buf, size_t *len);

#endif
