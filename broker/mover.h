/* mover.h — partition moves, broker side (the controller plans them:
 * controller.c, rebalance.h).
 *
 * A move of partition P from owner A to target B, as the map shows it
 * (PartitionPlacement.moving / move_target / fenced):
 *  1. moving, not fenced: B copies A's log with REPLICA_FETCH, storing the
 *     batches at their own offsets (plog_copy.h), while A keeps taking
 *     writes; B reports its lag with MOVE_STATUS.
 *  2. B within a small lag: the controller fences P. A then answers
 *     NOT_OWNER for everything on P (map.c) and, once every write it had
 *     accepted is committed (a commit barrier), marks P sealed: its
 *     REPLICA_FETCH answers say so, with the "offsets" entries of the
 *     groups of a __consumer_offsets partition.
 *  3. B fetches up to the sealed end, commits, reports done; the controller
 *     makes B the owner with epoch + 1 (a new map version).
 *  4. A drops its copy when it sees a map where P belongs to another broker
 *     with an epoch newer than the newest batch it holds — never because P
 *     is merely absent from its placements or the map is older.
 * Clients see NOT_LEADER_OR_FOLLOWER / NOT_COORDINATOR (retriable) during
 * the fence; the frontend refreshes its map and retries.
 *
 * Loop thread only. */
#ifndef EDDY_BR_MOVER_H
#define EDDY_BR_MOVER_H

#include "rpc.h"

typedef struct br_server br_server;
typedef struct br_mover br_mover;

/** Create the mover of @p s. Returns 0 and *out, or -ENOMEM. */
int br_mover_new(br_server *s, br_mover **out);

/** Stop copies (their calls are cancelled) and free. Commits still queued
 *  keep what they need: call before the committer stops, they finish on
 *  their own. Accepts NULL. */
void br_mover_free(br_mover *m);

/** The map changed: start or cancel copies to this broker, seal partitions
 *  fenced here, drop local copies of partitions that moved away. */
void br_mover_map_changed(br_mover *m);

/** REPLICA_FETCH (this broker owns the partition being moved). Ends
 *  @p call. */
void br_mover_replica_fetch(br_server *s, rpc_call *call);

#endif
