/* worker.h — worker threads: one event loop each, connections handed over by
 * the acceptor thread. */
#ifndef EDDY_FE_WORKER_H
#define EDDY_FE_WORKER_H

#include "fe.h"

typedef struct fe_workers fe_workers;

/** Start @p n workers (0: one per core). Returns NULL on failure (logged). */
fe_workers *fe_workers_start(const fe_config *conf, void *tls_ctx, int n);
/** Hand an accepted socket from @p ip to the next worker (round robin), or
 *  close it at once when max_connections or max_connections_per_ip is
 *  reached (counted, logged at most once a second). Called by the acceptor
 *  (main) thread only; takes ownership of @p fd. */
void fe_workers_hand(fe_workers *ws, int fd, const fe_listener_conf *l, const char *peer,
                     const fe_ipkey *ip);
/** Connections refused by the connection limits since start. */
uint64_t fe_workers_refused(const fe_workers *ws);
/** Stop every worker loop, join the threads, free. Accepts NULL. */
void fe_workers_stop(fe_workers *ws);
int fe_workers_count(const fe_workers *ws);
fe_worker *fe_workers_get(fe_workers *ws, int i);

#endif
