/* kafka_deletetopics.h — DeleteTopics (key 20) request and response, v0-v6.
 * Pattern, ownership and return values as in kafka_apiversions.h. Requests
 * name topics as plain strings up to v5 (topic_names) and as (name, id)
 * pairs from v6 (topics). */
#ifndef EDDY_KAFKA_DELETETOPICS_H
#define EDDY_KAFKA_DELETETOPICS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_deletetopics_topic {
    kafka_str name;                     /* nullable, default null */
    kafka_uuid topic_id;
} kafka_deletetopics_topic;

typedef struct kafka_deletetopics_req {
    kafka_deletetopics_topic *topics;   /* v6+ */
    int32_t n_topics;
    kafka_str *topic_names;             /* v0-5 */
    int32_t n_topic_names;
    int32_t timeout_ms;
} kafka_deletetopics_req;

typedef struct kafka_deletetopics_result {
    kafka_str name;                     /* nullable v6+ */
    kafka_uuid topic_id;                /* v6+ */
    int16_t error_code;
    kafka_str error_message;            /* v5+, nullable, default null */
} kafka_deletetopics_result;

typedef struct kafka_deletetopics_resp {
    int32_t throttle_time_ms;           /* v1+ */
    kafka_deletetopics_result *responses;
    int32_t n_responses;
} kafka_deletetopics_resp;

/** Decode a DeleteTopics request body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_deletetopics_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_deletetopics_req *out);
/** Encode a DeleteTopics request body; errors are sticky in @p w. */
void kafka_deletetopics_req_encode(kafka_writer *w, int16_t version, const kafka_deletetopics_req *in);
/** Decode a DeleteTopics response body. Return 0, -EBADMSG or -ENOMEM. */
int kafka_deletetopics_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_deletetopics_resp *out);
/** Encode a DeleteTopics response body; errors are sticky in @p w. */
void kafka_deletetopics_resp_encode(kafka_writer *w, int16_t version, const kafka_deletetopics_resp *in);

#endif
