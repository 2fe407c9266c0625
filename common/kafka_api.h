/* kafka_api.h — the API versions Eddy serves, and which of them are flexible.
 *
 * One table answers ApiVersions, picks the request/response header versions,
 * and refuses versions we do not serve. Ranges start low on purpose
 * (librdkafka switches features on only for ranges that start low). */
#ifndef EDDY_KAFKA_API_H
#define EDDY_KAFKA_API_H

#include <stdbool.h>
#include <stdint.h>

typedef struct kafka_api_info {
    int16_t api_key;
    int16_t min_version;   /* lowest version we advertise */
    int16_t max_version;   /* highest version we advertise and decode */
    int16_t flex_from;     /* first flexible version; INT16_MAX if none */
    int16_t serve_from;    /* lowest version we actually serve: Produce v0-2
                              are advertised but refused, as Kafka 4 does */
} kafka_api_info;

/** The entry for @p api_key, or NULL when we do not serve that API at all. */
const kafka_api_info *kafka_api_lookup(int16_t api_key);

/** All entries, for the ApiVersions response; *n gets the count. */
const kafka_api_info *kafka_api_all(int *n);

/** True when @p version of @p api_key uses the flexible encoding. */
bool kafka_api_is_flexible(int16_t api_key, int16_t version);

/** Request header version for a request (1, or 2 when flexible). */
int16_t kafka_api_req_header_version(int16_t api_key, int16_t version);

/** Response header version (0, or 1 when flexible; ApiVersions is always 0). */
int16_t kafka_api_resp_header_version(int16_t api_key, int16_t version);

#endif
