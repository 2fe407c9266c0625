/* server.h — one eddy-broker instance on an event loop: the store, the
 * committer, the RPC listener, the cluster map, the controller role.
 *
 * main.c and the in-process tests start a broker the same way:
 * br_server_start() on a loop, run the loop, br_server_stop() once the loop
 * has returned (or between loop runs in a test).
 *
 * The struct is visible to the modules of broker/ (rpc_serve, data,
 * fetch_wait, retention, controller glue); everything runs on the loop thread
 * except the committer's writer thread, which only touches what commit.h
 * hands it. */
#ifndef EDDY_BR_SERVER_H
#define EDDY_BR_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "br_config.h"
#include "commit.h"
#include "map.h"
#include "rpc.h"
#include "rpc_local.h"
#include "store.h"

struct event;
struct event_base;
typedef struct br_controller br_controller;
typedef struct br_fetch_waits br_fetch_waits;
typedef struct br_retention br_retention;
typedef struct br_pending br_pending;
typedef struct br_mover br_mover;

typedef struct br_server {
    br_config cfg;              /* own copy; advertised gets the bound port when 0 */
    struct event_base *base;
    br_store *store;
    br_committer *committer;
    rpc_server *rpc;
    br_map *map;
    br_controller *ctl;         /* controller role only */
    rpc_client *ctl_client;     /* other brokers: RPC client to the controller */
    char local_name[RPC_LOCAL_NAME_MAX + 1]; /* local RPC socket (rpc_local.h); "": none */
    struct rpc_tls *rpc_tls;    /* cfg.rpc_tls_*: mutual TLS for the RPC listener
                                 * and every RPC client; NULL: plaintext */
    int32_t self_id;            /* -1 until known */
    bool registered;            /* the controller knows our current address */
    bool stopping;

    struct event *tick;         /* 1 s: map pull, heartbeat, liveness */
    int64_t next_register_ms;   /* next REGISTER_BROKER (heartbeat or retry) */
    int register_backoff_ms;
    uint64_t register_call, map_call;  /* in-flight call ids, 0 when none */

    /* requests that carried a newer map version: handled after the refresh */
    br_pending *pending_head, *pending_tail;
    size_t n_pending;

    char *cluster_id;           /* from the first map; a different one is refused */
    uint64_t reconciled_version;
    int reconcile_barriers;     /* drops waiting for earlier commits to finish */

    br_fetch_waits *fetch;
    br_retention *retention;
    int inflight;               /* submitted commits not yet completed */

    br_mover *mover;            /* partition moves (mover.h) */

    struct br_stats_http *stats_http; /* HTTP stats on cfg.stats_listen, or NULL */

    /* the GROUP method, served by the group coordinator module when present */
    rpc_handler_fn group_handler;
    void *group_arg;
} br_server;

/** Start a broker described by @p cfg on @p base: open (create) the data
 *  dir and store, start the committer, listen, register with the controller
 *  (or become it), start pulling the map. Registration completes
 *  asynchronously while the loop runs. Returns 0 and *out, or -errno (logged
 *  here: this is where start-up decides to give up). */
int br_server_start(const br_config *cfg, struct event_base *base, br_server **out);

/** Stop: close the listener, answer parked and queued calls, wait (running
 *  the loop, which must not be running now) for in-flight commits, stop the
 *  committer, close the store, free. Accepts NULL. */
void br_server_stop(br_server *s);

/** Port of the RPC listener (for tests using port 0). */
int br_server_port(const br_server *s);

/** Ask the controller for the map now (no-op when a pull is in flight or
 *  this broker is the controller). */
void br_server_refresh_map(br_server *s);

/** Install a new packed map (from the controller's reply or the local
 *  controller), then reconcile local partitions and release the requests
 *  queued for it. */
void br_server_map_updated(br_server *s, const uint8_t *packed, size_t len);

/** Called when a map refresh attempt ended (either way): run the queued
 *  requests. */
void br_server_map_refresh_done(br_server *s);

/** Milliseconds since the epoch (CLOCK_REALTIME), for timestamps. */
int64_t br_now_ms(void);
/** Monotonic milliseconds, for timers and liveness. */
int64_t br_mono_ms(void);

#endif
