/* rpc_serve.c — one entry point for every RPC the broker serves. */
#include "rpc_serve.h"

#include <stdlib.h>

#include "controller.h"
#include "data.h"
#include "fetch_wait.h"
#include "log.h"
#include "mover.h"
#include "producer_state.h"

struct br_pending {
    rpc_call *call;
    br_pending *next;
};

static bool is_controller_method(Eddy__Method m) {
    return m == EDDY__METHOD__GET_MAP || m == EDDY__METHOD__CREATE_TOPIC ||
           m == EDDY__METHOD__DELETE_TOPIC || m == EDDY__METHOD__REGISTER_BROKER ||
           m == EDDY__METHOD__CREATE_PARTITIONS || m == EDDY__METHOD__ALLOC_PRODUCER_ID ||
           m == EDDY__METHOD__MOVE_STATUS || m == EDDY__METHOD__REBALANCE;
}

/* Methods that depend on partition placement, hence on the map version. */
static bool needs_map(Eddy__Method m) {
    return m == EDDY__METHOD__PRODUCE || m == EDDY__METHOD__FETCH ||
           m == EDDY__METHOD__LIST_OFFSETS || m == EDDY__METHOD__GROUP ||
           m == EDDY__METHOD__DESCRIBE_PRODUCERS || m == EDDY__METHOD__REPLICA_FETCH;
}

static void dispatch(br_server *s, rpc_call *call) {
    Eddy__Method m = rpc_call_frame(call)->hdr->method;
    if (s->stopping) {
        rpc_call_reply(call, EDDY__STATUS__UNAVAILABLE, NULL, NULL);
        return;
    }
    if (is_controller_method(m)) {
        if (s->ctl)
            br_controller_handle(s->ctl, call);
        else
            rpc_call_reply(call, EDDY__STATUS__NOT_CONTROLLER, NULL, NULL);
        return;
    }
    /* without an id or a map no ownership answer would be true */
    if (needs_map(m) && (s->self_id < 0 || br_map_version(s->map) == 0)) {
        rpc_call_reply(call, EDDY__STATUS__UNAVAILABLE, NULL, NULL);
        return;
    }
    switch (m) {
    case EDDY__METHOD__PRODUCE:
        br_data_produce(s, call);
        return;
    case EDDY__METHOD__FETCH:
        br_fetch_handle(s, call);
        return;
    case EDDY__METHOD__FETCH_WAKE:
        br_fetch_wake(s, call);
        return;
    case EDDY__METHOD__LIST_OFFSETS:
        br_data_list_offsets(s, call);
        return;
    case EDDY__METHOD__DESCRIBE_PRODUCERS:
        br_producers_describe(s, call);
        return;
    case EDDY__METHOD__REPLICA_FETCH:
        br_mover_replica_fetch(s, call);
        return;
    case EDDY__METHOD__GROUP:
        if (s->group_handler) {
            s->group_handler(call, s->group_arg);
            return;
        }
        break;
    default:
        break;
    }
    rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
}

void br_rpc_handle(rpc_call *call, void *arg) {
    br_server *s = arg;
    const Eddy__RpcHeader *h = rpc_call_frame(call)->hdr;
    /* The sender saw a newer map (a topic created, a partition moved):
     * refresh first so that the ownership check answers from that map.
     * The controller's own map is always the newest. */
    if (!s->stopping && !s->ctl && needs_map(h->method) && h->map_version > br_map_version(s->map) &&
        s->n_pending < BR_MAX_PENDING) {
        br_pending *p = malloc(sizeof *p);
        if (p) {
            p->call = call;
            p->next = NULL;
            if (s->pending_tail)
                s->pending_tail->next = p;
            else
                s->pending_head = p;
            s->pending_tail = p;
            s->n_pending++;
            br_server_refresh_map(s);
            return;
        }
    }
    dispatch(s, call);
}

void br_rpc_flush_pending(br_server *s) {
    /* take the whole queue first: a handler may queue nothing (the gate is
     * skipped here) but may run a refresh that flushes again */
    br_pending *p = s->pending_head;
    s->pending_head = s->pending_tail = NULL;
    s->n_pending = 0;
    while (p) {
        br_pending *next = p->next;
        dispatch(s, p->call);
        free(p);
        p = next;
    }
}

void br_rpc_fail_pending(br_server *s, Eddy__Status st) {
    br_pending *p = s->pending_head;
    s->pending_head = s->pending_tail = NULL;
    s->n_pending = 0;
    while (p) {
        br_pending *next = p->next;
        rpc_call_reply(p->call, st, NULL, NULL);
        free(p);
        p = next;
    }
}

void br_rpc_set_group_handler(br_server *s, rpc_handler_fn fn, void *arg) {
    s->group_handler = fn;
    s->group_arg = arg;
}
