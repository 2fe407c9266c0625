/* fetch_ahead.h — read-ahead of a consumer's next Fetch, per connection and
 * broker.
 *
 * A Kafka client has one Fetch in flight per connection, and the frontend
 * stores and forwards: it cannot start the response before every broker's
 * reply is in. Without read-ahead the brokers sit idle while the frontend
 * writes a response and the client reads it, and the frontend sits idle
 * while the brokers read the next one. So when a broker's reply brings
 * data, the FETCH RPC the client will most likely send next (the same
 * partitions, each offset moved past the batches returned) goes out at
 * once with max_wait 0, and its reply is kept. If the client's next Fetch
 * asks exactly that of that broker, the kept reply answers it; otherwise it
 * is dropped. Committed batches never change, so an answer read ahead is
 * one the broker could have given a moment later; only the watermarks it
 * reports are a moment old.
 *
 * Memory: replies kept or awaited are charged to one budget per frontend
 * process (fetch_ahead_bytes in the config); when it is spent no read-ahead
 * starts. All functions run on the connection's worker thread. */
#ifndef EDDY_FE_FETCH_AHEAD_H
#define EDDY_FE_FETCH_AHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fe.h"
#include "rpc.h" /* Eddy__FetchRequest, rpc_client */

/** Send @p q (a FETCH RPC for broker @p broker_id through @p client; its
 *  max_wait_ms and min_bytes are overridden to 0) as a read-ahead of
 *  @p conn, replacing any earlier one for that broker. @p q is copied; the
 *  caller keeps it. Does nothing when the budget is spent, the feature is
 *  off (budget 0) or memory runs out. */
void fe_fetch_ahead_start(fe_conn *conn, int32_t broker_id, rpc_client *client,
                          uint64_t map_version, const Eddy__FetchRequest *q);

typedef struct fe_ahead fe_ahead;

/** The read-ahead of @p conn for @p broker_id, if it asked exactly for the
 *  partitions of @p q (topic ids, partitions, offsets, limits, epochs, and
 *  the same max_bytes), in the same order or rotated, and is not known to
 *  be empty, failed or older than a second. Its reply lists the partitions
 *  in its own order: order[j] gets the index in @p q of its j-th partition
 *  (@p order has room for q->n_partitions). Returns NULL when there is no
 *  such read-ahead (one that does not match is dropped): send the call.
 *  Otherwise finish with fe_fetch_ahead_claim() before anything else runs. */
fe_ahead *fe_fetch_ahead_find(fe_conn *conn, int32_t broker_id, const Eddy__FetchRequest *q,
                              int *order);

/** Take @p a for a Fetch: @p cb gets its reply as from rpc_client_call_ex
 *  with RPC_CALL_SPLIT_TAIL, at once when it has arrived (inside this call),
 *  else when it arrives; the reply is borrowed, as there. */
void fe_fetch_ahead_claim(fe_ahead *a, rpc_reply_cb cb, void *arg);

/** Drop every read-ahead of @p conn (cancelling RPCs still out). For the
 *  connection's last reference: no request may be waiting on one. */
void fe_fetch_ahead_free(fe_conn *conn);

/** Set the budget of the process in bytes (0: read-ahead off). At start,
 *  before any worker runs. */
void fe_fetch_ahead_set_budget(int64_t bytes);

/** Counters for stats: read-aheads taken by a Fetch, and dropped. */
uint64_t fe_fetch_ahead_hits(void);
uint64_t fe_fetch_ahead_misses(void);

#endif
