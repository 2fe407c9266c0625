/* retention.h — time and size retention of the partitions this broker owns:
 * every 30 s, whole batches older than retention.ms (default 7 days) or
 * beyond retention.bytes (default unlimited) are deleted from the head of
 * the log through the committer. The newest batch is always kept. */
#ifndef EDDY_BR_RETENTION_H
#define EDDY_BR_RETENTION_H

#include "server.h"

#define BR_RETENTION_INTERVAL_MS 30000
#define BR_DEFAULT_RETENTION_MS 604800000LL

/** Start the periodic pass on s->base. Returns 0 or -errno. */
int br_retention_start(br_server *s, int interval_ms);
/** Stop the timer (truncations already queued complete). Accepts s->retention NULL. */
void br_retention_stop(br_server *s);
/** Run one pass now, at wall-clock time @p now_ms. Returns the number of
 *  partitions whose head truncation was queued, or -errno. */
int br_retention_run(br_server *s, int64_t now_ms);

#endif
