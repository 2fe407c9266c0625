/* worker.h — worker threads: one event loop each, connections handed over by
 * the acceptor thread. */
#ifndef EDDY_FE_WORKER_H
#define EDDY_FE_WORKER_H

#include "fe.h"

typedef struct fe_workers fe_workers;

/** Start @p n workers (0: one per core). Returns NULL on failure (logged). */
fe_workers *fe_workers_start(const fe_config *conf, void *tls_ctx, int n);
/** Hand an accepted socket to the next worker (round robin). Thread-safe;
 *  takes ownership of @p fd. */
void fe_workers_hand(fe_workers *ws, int fd, const fe_listener_conf *l, const char *peer);
/** Stop every worker loop, join the threads, free. Accepts NULL. */
void fe_workers_stop(fe_workers *ws);
int fe_workers_count(const fe_workers *ws);
fe_worker *fe_workers_get(fe_workers *ws, int i);

#endif
