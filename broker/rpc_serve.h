/* rpc_serve.h — dispatch of the broker's RPC methods, and the queue of
 * requests that wait for a map refresh because they carried a newer map
 * version than the broker's. */
#ifndef EDDY_BR_RPC_SERVE_H
#define EDDY_BR_RPC_SERVE_H

#include "rpc.h"
#include "server.h"

/** Requests queued for a map refresh beyond this are handled at once. */
#define BR_MAX_PENDING 10000

/** The rpc_handler_fn of the broker's rpc_server (@p arg: the br_server). */
void br_rpc_handle(rpc_call *call, void *arg);

/** Handle the queued requests now (after a refresh attempt ended). */
void br_rpc_flush_pending(br_server *s);

/** Answer the queued requests with @p st (shutdown). */
void br_rpc_fail_pending(br_server *s, Eddy__Status st);

/** Route the GROUP method to @p fn (the group coordinator module); without
 *  one, GROUP is answered INVALID_REQUEST. */
void br_rpc_set_group_handler(br_server *s, rpc_handler_fn fn, void *arg);

#endif
