/* kafka_metadata.h — Metadata (key 3) request and response, v0-v12.
 *
 * Pattern, ownership and return values as in kafka_apiversions.h. The
 * request's topic list is null (n_topics == -1) to ask for every topic
 * (v1+); v0 has no null and asks for every topic with an empty list, so the
 * encoder writes a null list as empty at v0. */
#ifndef EDDY_KAFKA_METADATA_H
#define EDDY_KAFKA_METADATA_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_metadata_req_topic {
    kafka_uuid topic_id;                /* v10+ */
    kafka_str name;                     /* nullable v10+ */
} kafka_metadata_req_topic;

typedef struct kafka_metadata_req {
    kafka_metadata_req_topic *topics;
    int32_t n_topics;                   /* -1: null (all topics), v1+ */
    bool allow_auto_topic_creation;     /* v4+, default true */
    bool include_cluster_authorized_operations; /* v8-10, default false */
    bool include_topic_authorized_operations;   /* v8+, default false */
} kafka_metadata_req;

typedef struct kafka_metadata_broker {
    int32_t node_id;
    kafka_str host;
    int32_t port;
    kafka_str rack;                     /* v1+, nullable, default null */
} kafka_metadata_broker;

typedef struct kafka_metadata_partition {
    int16_t error_code;
    int32_t partition_index;
    int32_t leader_id;
    int32_t leader_epoch;               /* v7+, default -1 */
    int32_t *replica_nodes;
    int32_t n_replica_nodes;
    int32_t *isr_nodes;
    int32_t n_isr_nodes;
    int32_t *offline_replicas;          /* v5+ */
    int32_t n_offline_replicas;
} kafka_metadata_partition;

typedef struct kafka_metadata_topic {
    int16_t error_code;
    kafka_str name;                     /* nullable v12+ */
    kafka_uuid topic_id;                /* v10+ */
    bool is_internal;                   /* v1+, default false */
    kafka_metadata_partition *partitions;
    int32_t n_partitions;
    int32_t topic_authorized_operations; /* v8+, default INT32_MIN */
} kafka_metadata_topic;

typedef struct kafka_metadata_resp {
    int32_t throttle_time_ms;           /* v3+ */
    kafka_metadata_broker *brokers;
    int32_t n_brokers;
    kafka_str cluster_id;               /* v2+, nullable, default null */
    int32_t controller_id;              /* v1+, default -1 */
    kafka_metadata_topic *topics;
    int32_t n_topics;
    int32_t cluster_authorized_operations; /* v8-10, default INT32_MIN */
} kafka_metadata_resp;

/** Decode a Metadata request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_metadata_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_metadata_req *out);
/** Encode a Metadata request body; errors are sticky in @p w. */
void kafka_metadata_req_encode(kafka_writer *w, int16_t version, const kafka_metadata_req *in);
/** Decode a Metadata response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_metadata_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_metadata_resp *out);
/** Encode a Metadata response body; errors are sticky in @p w. */
void kafka_metadata_resp_encode(kafka_writer *w, int16_t version, const kafka_metadata_resp *in);

#endif
