/* kafka_saslhandshake.h — SaslHandshake (key 17) request and response,
 * v0-v1 (never flexible). v0 is followed by raw SASL tokens, v1 by
 * SaslAuthenticate requests; the codec is the same. Follows the codec
 * pattern described in kafka_apiversions.h. */
#ifndef EDDY_KAFKA_SASLHANDSHAKE_H
#define EDDY_KAFKA_SASLHANDSHAKE_H

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

typedef struct kafka_saslhandshake_req {
    kafka_str mechanism;
} kafka_saslhandshake_req;

typedef struct kafka_saslhandshake_resp {
    int16_t error_code;
    kafka_str *mechanisms;
    int32_t n_mechanisms;
} kafka_saslhandshake_resp;

/** Decode a request body of @p version: 0, or -EBADMSG (malformed, or
 *  version outside v0-v1). */
int kafka_saslhandshake_req_decode(kafka_reader *r, int16_t version, arena *a, kafka_saslhandshake_req *out);
/** Encode a request body of @p version (v0-v1); errors stay in the writer. */
void kafka_saslhandshake_req_encode(kafka_writer *w, int16_t version, const kafka_saslhandshake_req *in);
/** Decode a response body of @p version: 0, -EBADMSG or -ENOMEM. */
int kafka_saslhandshake_resp_decode(kafka_reader *r, int16_t version, arena *a, kafka_saslhandshake_resp *out);
/** Encode a response body of @p version (v0-v1). */
void kafka_saslhandshake_resp_encode(kafka_writer *w, int16_t version, const kafka_saslhandshake_resp *in);

#endif
