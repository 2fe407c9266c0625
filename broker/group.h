/* group.h — the classic consumer group coordinator of one broker.
 *
 * Groups are placed on the owners of the partitions of __consumer_offsets
 * (common/group_place.h). A frontend forwards every group API request whole
 * (method GROUP: the Kafka request body in the frame's tail); this module
 * decodes it, runs the group state machine (Empty, PreparingRebalance,
 * CompletingRebalance, Stable, Dead) and answers the Kafka response body.
 * JoinGroup and SyncGroup answers are held (the reply callback is kept) until
 * the rebalance completes; nothing blocks the loop.
 *
 * Membership lives in memory only: after a restart consumers rejoin, as with
 * Kafka. Committed offsets are durable (offsets.h), written through the
 * committer so that an OffsetCommit is answered once it is on disk.
 *
 * Loop thread only. */
#ifndef EDDY_BR_GROUP_H
#define EDDY_BR_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commit.h"
#include "rpc.h"
#include "store.h"

struct event_base;
struct evbuffer;

typedef struct br_groups br_groups;

/** Receives the answer of one request: @p st is OK with @p body the Kafka
 *  response body (content to be moved out; may be NULL when @p st is not OK).
 *  Called exactly once per request, possibly before br_groups_request()
 *  returns, possibly much later (held JoinGroup / SyncGroup). */
typedef void (*br_group_reply_fn)(void *ctx, Eddy__Status st, struct evbuffer *body);

typedef struct br_groups_opts {
    int32_t min_session_ms;     /* 0: 6000 (group.min.session.timeout.ms) */
    int32_t max_session_ms;     /* 0: 1800000 */
    /** Ownership of a __consumer_offsets partition: OK, or NOT_OWNER /
     *  UNKNOWN_PARTITION. NULL: this broker owns every group (tests). */
    Eddy__Status (*owns)(void *arg, int32_t partition);
    void *owns_arg;
    /** Monotonic clock in ms. NULL: CLOCK_MONOTONIC (tests inject time). */
    int64_t (*now_ms)(void *arg);
    void *now_arg;
    int tick_ms;                /* expiry timer period; 0: 250; < 0: none
                                   (the caller runs br_groups_tick) */
} br_groups_opts;

/** One forwarded request. The body must stay valid and unchanged until the
 *  reply callback has run. */
typedef struct br_group_req {
    int16_t api_key;
    int16_t api_version;
    const uint8_t *body;
    size_t len;
    br_group_reply_fn reply;
    void *ctx;
    /** JoinGroup: the member's client id and host for DescribeGroups
     *  (NULL: ""); read during br_groups_request() only. */
    const char *client_id;
    const char *client_host;
} br_group_req;

/** Create the coordinator. Committed offsets go to the "offsets" database of
 *  @p store (opened beforehand with br_offsets_open()) through @p committer.
 *  @p opts may be NULL. Returns 0 and *out, or -ENOMEM. */
int br_groups_new(struct event_base *base, br_store *store, br_committer *committer,
                  const br_groups_opts *opts, br_groups **out);

/** Answer every held request with UNAVAILABLE and free. Offset commits still
 *  queued must have completed (stop the committer first). Accepts NULL. */
void br_groups_free(br_groups *g);

/** Handle one group API request (any of the 10 forwarded APIs). */
void br_groups_request(br_groups *g, const br_group_req *r);

/** Expire members whose session ran out and complete rebalances whose
 *  rebalance timeout passed. Run by the timer; tests call it directly. */
void br_groups_tick(br_groups *g);

/** The rpc_handler_fn for method GROUP (@p arg: the br_groups). */
void br_groups_rpc_handle(rpc_call *call, void *arg);

/** An owns() for br_groups_opts backed by a running broker (@p server: the
 *  br_server): checks the placement of __consumer_offsets in its map. */
Eddy__Status br_groups_owns_server(void *server, int32_t partition);

/** Number of groups held in memory (stats, tests). */
size_t br_groups_count(const br_groups *g);

/* ---- for offsets.c ------------------------------------------------------ */

/** The checks of an OffsetCommit against group membership: 0, or the Kafka
 *  error (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS,
 *  FENCED_INSTANCE_ID, COORDINATOR_NOT_AVAILABLE). Creates an Empty group
 *  for simple (generation < 0) commits so that ListGroups shows it. */
int16_t br_groups_commit_check(br_groups *g, const char *group, size_t glen, int32_t generation,
                               const char *member, size_t mlen, const char *instance,
                               int32_t ilen);
/** True when the group has members (not Empty / Dead / unknown). */
bool br_groups_has_members(br_groups *g, const char *group, size_t glen);
/** True when a member's consumer subscription names @p topic. */
bool br_groups_subscribed(br_groups *g, const char *group, size_t glen, const char *topic,
                          size_t tlen);
/** The ownership check for @p group (OK, NOT_OWNER, UNKNOWN_PARTITION). */
Eddy__Status br_groups_owns(br_groups *g, const char *group, size_t glen);
br_store *br_groups_store(br_groups *g);
br_committer *br_groups_committer(br_groups *g);
/** Send @p w (consumed) as the OK answer of @p r. */
struct kafka_writer;
void br_groups_reply_writer(const br_group_req *r, struct kafka_writer *w);

#endif
