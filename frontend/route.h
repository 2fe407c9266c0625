/* route.h — a worker's copy of the cluster map: which broker owns which
 * partition, and an RPC client per broker.
 *
 * The map is pulled from the controller (GET_MAP) every second and on demand
 * (a broker said NOT_OWNER, a topic is unknown). Pointers returned by lookups
 * are valid only until the next refresh completes: handlers copy what they
 * need (broker id, epoch) before waiting on anything. */
#ifndef EDDY_FE_ROUTE_H
#define EDDY_FE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fe.h"
#include "rpc.h"

typedef struct fe_route_topic {
    const Eddy__TopicInfo *info;   /* name, topic_id, partitions, configs */
    kafka_uuid id;
} fe_route_topic;

/** Create the route of worker @p w (connects lazily). NULL on OOM. */
fe_route *fe_route_new(fe_worker *w);
void fe_route_free(fe_route *r);

/** True once a map has been loaded. */
bool fe_route_ready(const fe_route *r);
/** True when another worker has seen a newer map than this one. */
bool fe_route_behind(const fe_route *r);
uint64_t fe_route_version(const fe_route *r);
const Eddy__ClusterMap *fe_route_map(const fe_route *r);

const fe_route_topic *fe_route_topic_by_name(fe_route *r, const char *name, size_t len);
const fe_route_topic *fe_route_topic_by_id(fe_route *r, const kafka_uuid *id);
size_t fe_route_n_topics(const fe_route *r);
const fe_route_topic *fe_route_topic_at(const fe_route *r, size_t i);

/** Value of topic config @p name, or NULL when it has its default. */
const char *fe_route_topic_config(const fe_route_topic *t, const char *name);

/** The placement of a partition, or NULL if out of range. */
const Eddy__PartitionPlacement *fe_route_partition(const fe_route_topic *t, int32_t partition);

/** RPC client for broker @p broker_id, or NULL when the map has no such
 *  broker. Owned by the route. */
rpc_client *fe_route_broker(fe_route *r, int32_t broker_id);
rpc_client *fe_route_controller(fe_route *r);

/** One broker's share of a request: the items it owns. */
typedef struct fe_broker_group {
    int32_t broker_id;
    int n;
    int *idx;              /* the n item indexes, ascending */
} fe_broker_group;

/** Group items 0..@p n-1 of a request by owning broker, for one RPC per
 *  broker. @p pick(items, i, &broker_id) says whether item i is to be sent,
 *  and where. Groups come in the order of their first item. Everything is
 *  allocated in @p a (the request's arena). Returns the number of groups
 *  and *out, or -ENOMEM (then nothing was grouped). */
int fe_route_group(arena *a, int n, bool (*pick)(const void *items, int i, int32_t *broker_id),
                   const void *items, fe_broker_group **out);

/** Refresh the map now; @p cb(err, arg) runs when done (err 0 or -errno).
 *  Concurrent refreshes are coalesced into one GET_MAP. @p cb may be NULL. */
void fe_route_refresh(fe_route *r, void (*cb)(int err, void *arg), void *arg);

#endif
