/* kafka_offsetcommit.h — OffsetCommit (key 8) request and response, v0-v9
 * (flexible from v8). Which group fields exist depends on the version:
 * generation and member id from v1, retention time only in v2-v4, group
 * instance id from v7, per-partition commit timestamp only in v1, leader
 * epoch from v6. Follows the codec pattern described in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_OFFSETCOMMIT_H
#define EDDY_KAFKA_OFFSETCOMMIT_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_offsetcommit_req_partition {
    int32_t partition_index;
    int64_t committed_offset;
    int32_t committed_leader_epoch;   /* v6+; default -1 */
    int64_t commit_timestamp;         /* v1 only; default -1 */
    kafka_str committed_metadata;     /* nullable */
} kafka_offsetcommit_req_partition;

typedef struct kafka_offsetcommit_req_topic {
    kafka_str name;
    kafka_offsetcommit_req_partition *partitions;
    int32_t n_partitions;
} kafka_offsetcommit_req_topic;

typedef struct kafka_offsetcommit_req {
    kafka_str group_id;
    int32_t generation_id_or_member_epoch;  /* v1+; default -1 */
    kafka_str member_id;                    /* v1+; default "" */
    kafka_str group_instance_id;            /* v7+, nullable; default null */
    int64_t retention_time_ms;              /* v2-4; default -1 */
    kafka_offsetcommit_req_topic *topics;
    int32_t n_topics;
} kafka_offsetcommit_req;

typedef struct kafka_offsetcommit_resp_partition {
    int32_t partition_index;
    int16_t error_code;
} kafka_offsetcommit_resp_partition;

typedef struct kafka_offsetcommit_resp_topic {
    kafka_str name;
    kafka_offsetcommit_resp_partition *partitions;
    int32_t n_partitions;
} kafka_offsetcommit_resp_topic;

typedef struct kafka_offsetcommit_resp {
    int32_t throttle_time_ms;               /* v3+ */
    kafka_offsetcommit_resp_topic *topics;
    int32_t n_topics;
} kafka_offsetcommit_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  outside v0-v9) or -ENOMEM. */
int kafka_offsetcommit_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_offsetcommit_req *out);
/** Encode a request body of @p version (v0-v9); errors stay in the writer. */
void kafka_offsetcommit_req_encode(kafka_writer *w, int16_t version, const kafka_offsetcommit_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_offsetcommit_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_offsetcommit_resp *out);
/** Encode a response body of @p version (v0-v9). */
void kafka_offsetcommit_resp_encode(kafka_writer *w, int16_t version, const kafka_offsetcommit_resp *in);

#endif
