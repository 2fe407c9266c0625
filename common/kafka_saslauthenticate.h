/* kafka_saslauthenticate.h — SaslAuthenticate (key 36) request and
 * response, v0-v2 (flexible from v2). auth_bytes are views into the frame:
 * they hold credentials, so callers must not log them. Follows the codec
 * pattern described in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_SASLAUTHENTICATE_H
#define EDDY_KAFKA_SASLAUTHENTICATE_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_saslauthenticate_req {
    kafka_bytes auth_bytes;
} kafka_saslauthenticate_req;

typedef struct kafka_saslauthenticate_resp {
    int16_t error_code;
    kafka_str error_message;       /* nullable */
    kafka_bytes auth_bytes;
    int64_t session_lifetime_ms;   /* v1+; 0 = no re-authentication needed */
} kafka_saslauthenticate_resp;

/** Decode a request body of @p version: 0, or -EBADMSG (malformed, or
 *  version outside v0-v2). */
int kafka_saslauthenticate_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_saslauthenticate_req *out);
/** Encode a request body of @p version (v0-v2); errors stay in the writer. */
void kafka_saslauthenticate_req_encode(kafka_writer *w, int16_t version, const kafka_saslauthenticate_req *in);
/** Decode a response body of @p version: 0 or -EBADMSG. */
int kafka_saslauthenticate_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_saslauthenticate_resp *out);
/** Encode a response body of @p version (v0-v2). */
void kafka_saslauthenticate_resp_encode(kafka_writer *w, int16_t version, const kafka_saslauthenticate_resp *in);

#endif
