/* fuzz_kafka_response.c — Kafka response decoding (our tests' and tools'
 * side: kafka_*_resp_decode).
 *
 * Input: 2 bytes api_key, 2 bytes api_version (folded onto a codec we have,
 * as in fuzz_kafka_request.c), then a response frame without its size
 * prefix: correlation_id, tags when the response header is v1, body. */
#include "fuzz.h"
#include "fuzz_kafka_codecs.h"

int eddy_fuzz_init(void) {
    fz_apis_init();
    return 0;
}

int eddy_fuzz_one(const uint8_t *data, size_t size) {
    if (size < 4)
        return 0;
    uint16_t key = (uint16_t)(data[0] << 8 | data[1]);
    uint16_t ver = (uint16_t)(data[2] << 8 | data[3]);
    int16_t v;
    const fz_api *api = fz_pick(key, ver, &v);

    kafka_reader r;
    kr_init(&r, data + 4, size - 4);
    (void)kr_i32(&r); /* correlation_id */
    /* ApiVersions keeps response header v0 at every version (KIP-511) */
    if (api->api_key != KAFKA_API_VERSIONS)
        kr_skip_tags(&r, fz_flexible(api->api_key, v));
    if (kr_ok(&r))
        (void)api->resp(&r, v);
    return 0;
}
