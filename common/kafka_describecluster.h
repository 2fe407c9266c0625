/* kafka_describecluster.h — DescribeCluster (key 60) request and response,
 * v0-v1, flexible in every version. Pattern, ownership and return values as
 * in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_DESCRIBECLUSTER_H
#define EDDY_KAFKA_DESCRIBECLUSTER_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_describecluster_req {
    bool include_cluster_authorized_operations;
    int8_t endpoint_type;               /* v1+, default 1 (brokers) */
} kafka_describecluster_req;

typedef struct kafka_describecluster_broker {
    int32_t broker_id;
    kafka_str host;
    int32_t port;
    kafka_str rack;                     /* nullable, default null */
} kafka_describecluster_broker;

typedef struct kafka_describecluster_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    kafka_str error_message;            /* nullable, default null */
    int8_t endpoint_type;               /* v1+, default 1 */
    kafka_str cluster_id;
    int32_t controller_id;              /* default -1 */
    kafka_describecluster_broker *brokers;
    int32_t n_brokers;
    int32_t cluster_authorized_operations; /* default INT32_MIN */
} kafka_describecluster_resp;

/** Decode a DescribeCluster request body. Return 0 or -EBADMSG. */
int kafka_describecluster_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_describecluster_req *out);
/** Encode a DescribeCluster request body; errors are sticky in @p w. */
void kafka_describecluster_req_encode(kafka_writer *w, int16_t version, const kafka_describecluster_req *in);
/** Decode a DescribeCluster response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_describecluster_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_describecluster_resp *out);
/** Encode a DescribeCluster response body; errors are sticky in @p w. */
void kafka_describecluster_resp_encode(kafka_writer *w, int16_t version, const kafka_describecluster_resp *in);

#endif
