/* kafka_consumer_protocol.h — the "consumer" embedded protocol: the
 * ConsumerProtocolSubscription that members put in JoinGroup protocol
 * metadata, and the ConsumerProtocolAssignment the leader hands out through
 * SyncGroup. Both start with an int16 version and are never flexible.
 *
 * The coordinator treats these bytes as opaque; they are decoded only to
 * show which member holds which partitions. Decoding accepts versions newer
 * than 3: a newer version only appends fields, so the v3 fields are read and
 * the bytes after them skipped (as Kafka's own clients do). Views point into
 * the reader's buffer, arrays live in the caller's arena. */
#ifndef EDDY_KAFKA_CONSUMER_PROTOCOL_H
#define EDDY_KAFKA_CONSUMER_PROTOCOL_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

/** Highest version whose fields we know. */
#define KAFKA_CONSUMER_PROTOCOL_MAX_VERSION 3

typedef struct kafka_consumer_topic_partitions {
    kafka_str topic;
    int32_t *partitions;
    int32_t n_partitions;
} kafka_consumer_topic_partitions;

typedef struct kafka_consumer_subscription {
    int16_t version;                            /* as found on the wire */
    kafka_str *topics;
    int32_t n_topics;
    kafka_bytes user_data;                      /* nullable; default null */
    kafka_consumer_topic_partitions *owned_partitions;  /* v1+ */
    int32_t n_owned_partitions;
    int32_t generation_id;                      /* v2+; default -1 */
    kafka_str rack_id;                          /* v3+, nullable; default null */
} kafka_consumer_subscription;

typedef struct kafka_consumer_assignment {
    int16_t version;                            /* as found on the wire */
    kafka_consumer_topic_partitions *assigned_partitions;
    int32_t n_assigned_partitions;
    kafka_bytes user_data;                      /* nullable; default null */
} kafka_consumer_assignment;

/** Decode a whole subscription (version prefix included) from @p r. Return
 *  0, -EBADMSG (malformed or negative version) or -ENOMEM. */
int kafka_consumer_subscription_decode(kafka_reader *r, arena *a, kafka_consumer_subscription *out);
/** Encode @p in as @p version (0-3), version prefix included. */
void kafka_consumer_subscription_encode(kafka_writer *w, int16_t version, const kafka_consumer_subscription *in);
/** Decode a whole assignment (version prefix included): 0, -EBADMSG or -ENOMEM.
 *  Empty bytes (what a member gets when the leader assigned it nothing, or
 *  from a coordinator that answered with an error) are -EBADMSG: the caller
 *  shows them as "no assignment". */
int kafka_consumer_assignment_decode(kafka_reader *r, arena *a, kafka_consumer_assignment *out);
/** Encode @p in as @p version (0-3), version prefix included. */
void kafka_consumer_assignment_encode(kafka_writer *w, int16_t version, const kafka_consumer_assignment *in);

#endif
