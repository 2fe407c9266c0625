/* stats_http.h — the frontend's HTTP endpoint: GET /stats (JSON), /metrics
 * (Prometheus text), /healthz, /readyz. It runs on worker 0's event loop and
 * uses that worker's cluster map and RPC clients to ask the brokers. */
#ifndef EDDY_FE_STATS_HTTP_H
#define EDDY_FE_STATS_HTTP_H

#include "fe_config.h"

struct event_base;
typedef struct fe_workers fe_workers;
typedef struct fe_stats_http fe_stats_http;

/** Bind conf->stats_listen. Returns NULL (logged) on failure. */
fe_stats_http *fe_stats_http_start(struct event_base *unused, const fe_config *conf,
                                   fe_workers *workers);
void fe_stats_http_stop(fe_stats_http *s);

#endif
