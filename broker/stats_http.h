/* stats_http.h — a broker's own HTTP endpoint on cfg.stats_listen:
 * GET /stats (JSON), /metrics (Prometheus text), /healthz, /readyz
 * (docs/stats.md, "Broker endpoint"). It runs with libevent's evhttp on the
 * broker's event loop and reads only loop-thread state and atomics: every
 * answer is built synchronously from memory (no RPC, no write transaction). */
#ifndef EDDY_BR_STATS_HTTP_H
#define EDDY_BR_STATS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct br_server;
typedef struct br_stats_http br_stats_http;

/** Listen on s->cfg.stats_listen (port 0: any free port) on s->base.
 *  Returns 0 and *out, or -errno (logged). */
int br_stats_http_start(struct br_server *s, br_stats_http **out);
/** Close the listener and free. Accepts NULL. */
void br_stats_http_stop(br_stats_http *h);
/** The port bound (for tests using port 0). */
int br_stats_http_port(const br_stats_http *h);

#endif
