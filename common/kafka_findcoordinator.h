/* kafka_findcoordinator.h — FindCoordinator (key 10) request and response,
 * v0-v6 (flexible from v3). v0-v3 ask for one key and get one coordinator;
 * v4+ ask for a batch of keys and get one result per key. Follows the codec
 * pattern described in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_FINDCOORDINATOR_H
#define EDDY_KAFKA_FINDCOORDINATOR_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_findcoordinator_req {
    kafka_str key;                   /* v0-3; default "" */
    int8_t key_type;                 /* v1+: 0 group, 1 transaction */
    kafka_str *coordinator_keys;     /* v4+ */
    int32_t n_coordinator_keys;
} kafka_findcoordinator_req;

/** One per-key result (v4+). */
typedef struct kafka_findcoordinator_coordinator {
    kafka_str key;
    int32_t node_id;
    kafka_str host;
    int32_t port;
    int16_t error_code;
    kafka_str error_message;         /* nullable */
} kafka_findcoordinator_coordinator;

typedef struct kafka_findcoordinator_resp {
    int32_t throttle_time_ms;        /* v1+ */
    int16_t error_code;              /* v0-3 */
    kafka_str error_message;         /* v1-3, nullable; default "" */
    int32_t node_id;                 /* v0-3 */
    kafka_str host;                  /* v0-3; default "" */
    int32_t port;                    /* v0-3 */
    kafka_findcoordinator_coordinator *coordinators; /* v4+ */
    int32_t n_coordinators;
} kafka_findcoordinator_resp;

/** Decode a request body of @p version: 0, -EBADMSG (malformed, or version
 *  outside v0-v6) or -ENOMEM. */
int kafka_findcoordinator_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_findcoordinator_req *out);
/** Encode a request body of @p version (v0-v6); errors stay in the writer. */
void kafka_findcoordinator_req_encode(kafka_writer *w, int16_t version, const kafka_findcoordinator_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_findcoordinator_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_findcoordinator_resp *out);
/** Encode a response body of @p version (v0-v6). */
void kafka_findcoordinator_resp_encode(kafka_writer *w, int16_t version, const kafka_findcoordinator_resp *in);

#endif
