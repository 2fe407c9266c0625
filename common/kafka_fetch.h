/* kafka_fetch.h — Fetch (key 1) request and response, v0-v17.
 *
 * Pattern, ownership and return values as in kafka_apiversions.h. Topics are
 * addressed by name up to v12 and by id from v13. Tagged fields (request
 * ClusterId, ReplicaState, ReplicaDirectoryId; response DivergingEpoch,
 * CurrentLeader, SnapshotId, NodeEndpoints) are decoded, and written only when
 * they differ from their defaults, as Kafka does.
 *
 * Records of a response partition are a view. The encoder copies them unless
 * records_release is set: then it emits them by reference with kw_ref() and
 * the writer calls records_release(records_owner) exactly once (after the
 * bytes were sent, at kw_free(), or at once on error) — also when the records
 * are null. Decoding sets records_release to NULL.
 *
 * Or records_buf is set: then the records are that evbuffer's content
 * (records.len bytes; records.ptr unused), and the encoder hands the
 * evbuffer to the writer (kw_evbuffer), which moves its chains into the
 * output and frees it; records_release must then be NULL. */
#ifndef EDDY_KAFKA_FETCH_H
#define EDDY_KAFKA_FETCH_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_proto.h"
#include "kafka_writer.h"

typedef struct kafka_fetch_replica_state {
    int32_t replica_id;                 /* default -1 */
    int64_t replica_epoch;              /* default -1 */
} kafka_fetch_replica_state;

typedef struct kafka_fetch_partition {
    int32_t partition;
    int32_t current_leader_epoch;       /* v9+, default -1 */
    int64_t fetch_offset;
    int32_t last_fetched_epoch;         /* v12+, default -1 */
    int64_t log_start_offset;           /* v5+, default -1 */
    int32_t partition_max_bytes;
    kafka_uuid replica_directory_id;    /* v17+, tag 0, default zero */
} kafka_fetch_partition;

typedef struct kafka_fetch_topic {
    kafka_str topic;                    /* v0-12, default "" */
    kafka_uuid topic_id;                /* v13+ */
    kafka_fetch_partition *partitions;
    int32_t n_partitions;
} kafka_fetch_topic;

typedef struct kafka_fetch_forgotten_topic {
    kafka_str topic;                    /* v7-12, default "" */
    kafka_uuid topic_id;                /* v13+ */
    int32_t *partitions;
    int32_t n_partitions;
} kafka_fetch_forgotten_topic;

typedef struct kafka_fetch_req {
    kafka_str cluster_id;               /* v12+, tag 0, nullable, default null */
    int32_t replica_id;                 /* v0-14, default -1 */
    kafka_fetch_replica_state replica_state; /* v15+, tag 1 */
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;                  /* v3+, default INT32_MAX */
    int8_t isolation_level;             /* v4+, default 0 */
    int32_t session_id;                 /* v7+, default 0 */
    int32_t session_epoch;              /* v7+, default -1 */
    kafka_fetch_topic *topics;
    int32_t n_topics;
    kafka_fetch_forgotten_topic *forgotten_topics_data; /* v7+ */
    int32_t n_forgotten_topics_data;
    kafka_str rack_id;                  /* v11+, default "" */
} kafka_fetch_req;

typedef struct kafka_fetch_epoch_end_offset {
    int32_t epoch;                      /* default -1 */
    int64_t end_offset;                 /* default -1 */
} kafka_fetch_epoch_end_offset;

typedef struct kafka_fetch_leader {
    int32_t leader_id;                  /* default -1 */
    int32_t leader_epoch;               /* default -1 */
} kafka_fetch_leader;

typedef struct kafka_fetch_snapshot_id {
    int64_t end_offset;                 /* default -1 */
    int32_t epoch;                      /* default -1 */
} kafka_fetch_snapshot_id;

typedef struct kafka_fetch_aborted_txn {
    int64_t producer_id;
    int64_t first_offset;
} kafka_fetch_aborted_txn;

typedef struct kafka_fetch_partition_resp {
    int32_t partition_index;
    int16_t error_code;
    int64_t high_watermark;
    int64_t last_stable_offset;         /* v4+, default -1 */
    int64_t log_start_offset;           /* v5+, default -1 */
    kafka_fetch_epoch_end_offset diverging_epoch; /* v12+, tag 0 */
    kafka_fetch_leader current_leader;  /* v12+, tag 1 */
    kafka_fetch_snapshot_id snapshot_id; /* v12+, tag 2 */
    kafka_fetch_aborted_txn *aborted_transactions; /* v4+ */
    int32_t n_aborted_transactions;     /* -1: null array */
    int32_t preferred_read_replica;     /* v11+, default -1 */
    kafka_bytes records;                /* nullable; view */
    kw_release_fn records_release;      /* encode by reference when set */
    void *records_owner;
    struct evbuffer *records_buf;       /* or: records moved from here */
} kafka_fetch_partition_resp;

typedef struct kafka_fetch_topic_resp {
    kafka_str topic;                    /* v0-12, default "" */
    kafka_uuid topic_id;                /* v13+ */
    kafka_fetch_partition_resp *partitions;
    int32_t n_partitions;
} kafka_fetch_topic_resp;

typedef kafka_node_endpoint kafka_fetch_node_endpoint;

typedef struct kafka_fetch_resp {
    int32_t throttle_time_ms;           /* v1+ */
    int16_t error_code;                 /* v7+ */
    int32_t session_id;                 /* v7+, default 0 */
    kafka_fetch_topic_resp *responses;
    int32_t n_responses;
    kafka_fetch_node_endpoint *node_endpoints; /* v16+, tag 0 */
    int32_t n_node_endpoints;
} kafka_fetch_resp;

/** Decode a Fetch request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_fetch_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_fetch_req *out);
/** Encode a Fetch request body; errors are sticky in @p w. */
void kafka_fetch_req_encode(kafka_writer *w, int16_t version, const kafka_fetch_req *in);
/** Decode a Fetch response body (records as views). Return 0, -EBADMSG or
 *  -ENOMEM. */
int kafka_fetch_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_fetch_resp *out);
/** Encode a Fetch response body. Every partition whose records_release is set
 *  hands its records to @p w by reference; see the file comment. */
void kafka_fetch_resp_encode(kafka_writer *w, int16_t version, const kafka_fetch_resp *in);

#endif
