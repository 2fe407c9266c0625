/* kafka_listoffsets.h — ListOffsets (key 2) request and response, v0-v10.
 * Pattern, ownership and return values as in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_LISTOFFSETS_H
#define EDDY_KAFKA_LISTOFFSETS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_listoffsets_partition {
    int32_t partition_index;
    int32_t current_leader_epoch;       /* v4+, default -1 */
    int64_t timestamp;
    int32_t max_num_offsets;            /* v0 only, default 1 */
} kafka_listoffsets_partition;

typedef struct kafka_listoffsets_topic {
    kafka_str name;
    kafka_listoffsets_partition *partitions;
    int32_t n_partitions;
} kafka_listoffsets_topic;

typedef struct kafka_listoffsets_req {
    int32_t replica_id;
    int8_t isolation_level;             /* v2+, default 0 */
    kafka_listoffsets_topic *topics;
    int32_t n_topics;
    int32_t timeout_ms;                 /* v10+, default 0 */
} kafka_listoffsets_req;

typedef struct kafka_listoffsets_partition_resp {
    int32_t partition_index;
    int16_t error_code;
    int64_t *old_style_offsets;         /* v0 only */
    int32_t n_old_style_offsets;
    int64_t timestamp;                  /* v1+, default -1 */
    int64_t offset;                     /* v1+, default -1 */
    int32_t leader_epoch;               /* v4+, default -1 */
} kafka_listoffsets_partition_resp;

typedef struct kafka_listoffsets_topic_resp {
    kafka_str name;
    kafka_listoffsets_partition_resp *partitions;
    int32_t n_partitions;
} kafka_listoffsets_topic_resp;

typedef struct kafka_listoffsets_resp {
    int32_t throttle_time_ms;           /* v2+ */
    kafka_listoffsets_topic_resp *topics;
    int32_t n_topics;
} kafka_listoffsets_resp;

/** Decode a ListOffsets request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_listoffsets_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_listoffsets_req *out);
/** Encode a ListOffsets request body; errors are sticky in @p w. */
void kafka_listoffsets_req_encode(kafka_writer *w, int16_t version, const kafka_listoffsets_req *in);
/** Decode a ListOffsets response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_listoffsets_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_listoffsets_resp *out);
/** Encode a ListOffsets response body; errors are sticky in @p w. */
void kafka_listoffsets_resp_encode(kafka_writer *w, int16_t version, const kafka_listoffsets_resp *in);

#endif
