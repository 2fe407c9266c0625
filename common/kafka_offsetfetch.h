/* kafka_offsetfetch.h — OffsetFetch (key 9) request and response, v0-v9
 * (flexible from v6). v0-v7 ask about one group; v8+ carry a batch of
 * groups with per-group results. A null topics array (n_topics == -1,
 * topics == NULL) means "every topic with a committed offset"; it is
 * allowed from v2 (single-group form) and in every v8+ group. Follows the
 * codec pattern described in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_OFFSETFETCH_H
#define EDDY_KAFKA_OFFSETFETCH_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_offsetfetch_req_topic {
    kafka_str name;
    int32_t *partition_indexes;
    int32_t n_partition_indexes;
} kafka_offsetfetch_req_topic;

typedef struct kafka_offsetfetch_req_group {
    kafka_str group_id;
    kafka_str member_id;                    /* v9+, nullable; default null */
    int32_t member_epoch;                   /* v9+; default -1 */
    kafka_offsetfetch_req_topic *topics;
    int32_t n_topics;                       /* -1: null, all topics */
} kafka_offsetfetch_req_group;

typedef struct kafka_offsetfetch_req {
    kafka_str group_id;                     /* v0-7; default "" */
    kafka_offsetfetch_req_topic *topics;    /* v0-7 */
    int32_t n_topics;                       /* -1: null, all topics (v2-7);
                                               written as empty in v0-1 */
    kafka_offsetfetch_req_group *groups;    /* v8+ */
    int32_t n_groups;
    bool require_stable;                    /* v7+ */
} kafka_offsetfetch_req;

typedef struct kafka_offsetfetch_resp_partition {
    int32_t partition_index;
    int64_t committed_offset;
    int32_t committed_leader_epoch;         /* v5+; default -1 */
    kafka_str metadata;                     /* nullable */
    int16_t error_code;
} kafka_offsetfetch_resp_partition;

typedef struct kafka_offsetfetch_resp_topic {
    kafka_str name;
    kafka_offsetfetch_resp_partition *partitions;
    int32_t n_partitions;
} kafka_offsetfetch_resp_topic;

typedef struct kafka_offsetfetch_resp_group {
    kafka_str group_id;
    kafka_offsetfetch_resp_topic *topics;
    int32_t n_topics;
    int16_t error_code;
} kafka_offsetfetch_resp_group;

typedef struct kafka_offsetfetch_resp {
    int32_t throttle_time_ms;               /* v3+ */
    kafka_offsetfetch_resp_topic *topics;   /* v0-7 */
    int32_t n_topics;
    int16_t error_code;                     /* v2-7 */
    kafka_offsetfetch_resp_group *groups;   /* v8+ */
    int32_t n_groups;
} kafka_offsetfetch_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  outside v0-v9) or -ENOMEM. */
int kafka_offsetfetch_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_offsetfetch_req *out);
/** Encode a request body of @p version (v0-v9); errors stay in the writer. */
void kafka_offsetfetch_req_encode(kafka_writer *w, int16_t version, const kafka_offsetfetch_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_offsetfetch_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_offsetfetch_resp *out);
/** Encode a response body of @p version (v0-v9). */
void kafka_offsetfetch_resp_encode(kafka_writer *w, int16_t version, const kafka_offsetfetch_resp *in);

#endif
