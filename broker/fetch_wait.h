/* fetch_wait.h — FETCH with long-poll: answer at once when min_bytes are
 * there (or on error, or max_wait_ms == 0), else park the call until a commit
 * adds data to one of its partitions, its max_wait_ms timer fires, or a
 * FETCH_WAKE for it arrives on the same connection. */
#ifndef EDDY_BR_FETCH_WAIT_H
#define EDDY_BR_FETCH_WAIT_H

#include <stddef.h>
#include <stdint.h>

#include "rpc.h"
#include "server.h"

/** Parked fetches beyond this are answered at once. */
#define BR_MAX_PARKED_FETCHES 10000
/** Longest wait honoured, whatever the request asks. */
#define BR_MAX_FETCH_WAIT_MS 300000

/** Set up s->fetch. Returns 0 or -ENOMEM. */
int br_fetch_init(br_server *s);
/** Answer every parked fetch with what is there, free s->fetch. */
void br_fetch_free(br_server *s);

/** FETCH. Ends @p call now or later. */
void br_fetch_handle(br_server *s, rpc_call *call);
/** FETCH_WAKE: answer the parked fetch named by it (same connection) now,
 *  then answer @p call with Empty. */
void br_fetch_wake(br_server *s, rpc_call *call);
/** Data was committed to (or the map changed for) this partition:
 *  re-evaluate the fetches waiting on it. */
void br_fetch_notify(br_server *s, const uint8_t topic_id[16], int32_t partition);
/** Number of parked fetches (stats, tests). */
size_t br_fetch_parked(const br_server *s);

#endif
