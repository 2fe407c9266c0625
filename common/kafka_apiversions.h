/* kafka_apiversions.h — ApiVersions (key 18) request and response, v0-v4.
 *
 * The pattern every kafka_<api>.h follows:
 *  - structs with the protocol's field names (snake_case), strings and bytes
 *    as views (kafka_str / kafka_bytes) into the decoded frame, arrays as
 *    (pointer, count) allocated in the caller's arena;
 *  - *_decode(reader, version, arena, out): 0, -EBADMSG (malformed or
 *    version out of range) or -ENOMEM; fields absent in @p version are left
 *    at their protocol defaults;
 *  - *_encode(writer, version, in): writes the body only (no header); fields
 *    absent in @p version are skipped; errors are sticky in the writer.
 * The caller owns the reader's buffer (views point into it) and the arena. */
#ifndef EDDY_KAFKA_APIVERSIONS_H
#define EDDY_KAFKA_APIVERSIONS_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_apiversions_req {
    kafka_str client_software_name;     /* v3+ */
    kafka_str client_software_version;  /* v3+ */
} kafka_apiversions_req;

typedef struct kafka_apiversions_key {
    int16_t api_key, min_version, max_version;
} kafka_apiversions_key;

typedef struct kafka_apiversions_resp {
    int16_t error_code;
    kafka_apiversions_key *api_keys;
    int32_t n_api_keys;
    int32_t throttle_time_ms;           /* v1+ */
} kafka_apiversions_resp;

int kafka_apiversions_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_apiversions_req *out);
void kafka_apiversions_req_encode(kafka_writer *w, int16_t version, const kafka_apiversions_req *in);
int kafka_apiversions_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_apiversions_resp *out);
void kafka_apiversions_resp_encode(kafka_writer *w, int16_t version, const kafka_apiversions_resp *in);

#endif
