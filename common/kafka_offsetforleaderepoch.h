/* kafka_offsetforleaderepoch.h — OffsetForLeaderEpoch (key 23) request and
 * response, v0-v4. Pattern, ownership and return values as in
 * kafka_apiversions.h. */
#ifndef EDDY_KAFKA_OFFSETFORLEADEREPOCH_H
#define EDDY_KAFKA_OFFSETFORLEADEREPOCH_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_offsetforleaderepoch_partition {
    int32_t partition;
    int32_t current_leader_epoch;       /* v2+, default -1 */
    int32_t leader_epoch;
} kafka_offsetforleaderepoch_partition;

typedef struct kafka_offsetforleaderepoch_topic {
    kafka_str topic;
    kafka_offsetforleaderepoch_partition *partitions;
    int32_t n_partitions;
} kafka_offsetforleaderepoch_topic;

typedef struct kafka_offsetforleaderepoch_req {
    int32_t replica_id;                 /* v3+, default -2 */
    kafka_offsetforleaderepoch_topic *topics;
    int32_t n_topics;
} kafka_offsetforleaderepoch_req;

typedef struct kafka_offsetforleaderepoch_partition_resp {
    int16_t error_code;
    int32_t partition;
    int32_t leader_epoch;               /* v1+, default -1 */
    int64_t end_offset;
} kafka_offsetforleaderepoch_partition_resp;

typedef struct kafka_offsetforleaderepoch_topic_resp {
    kafka_str topic;
    kafka_offsetforleaderepoch_partition_resp *partitions;
    int32_t n_partitions;
} kafka_offsetforleaderepoch_topic_resp;

typedef struct kafka_offsetforleaderepoch_resp {
    int32_t throttle_time_ms;           /* v2+ */
    kafka_offsetforleaderepoch_topic_resp *topics;
    int32_t n_topics;
} kafka_offsetforleaderepoch_resp;

/** Decode an OffsetForLeaderEpoch request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_offsetforleaderepoch_req_decode(kafka_reader *r, int16_t version, arena *a,
                                          kafka_offsetforleaderepoch_req *out);
/** Encode an OffsetForLeaderEpoch request body; errors are sticky in @p w. */
void kafka_offsetforleaderepoch_req_encode(kafka_writer *w, int16_t version,
                                           const kafka_offsetforleaderepoch_req *in);
/** Decode an OffsetForLeaderEpoch response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_offsetforleaderepoch_resp_decode(kafka_reader *r, int16_t version, arena *a,
                                           kafka_offsetforleaderepoch_resp *out);
/** Encode an OffsetForLeaderEpoch response body; errors are sticky in @p w. */
void kafka_offsetforleaderepoch_resp_encode(kafka_writer *w, int16_t version,
                                            const kafka_offsetforleaderepoch_resp *in);

#endif
