/* fuzz_kafka_request.c — Kafka request decoding, as the frontend sees it.
 *
 * Input: one request frame without its 4-byte size prefix, exactly what
 * frontend/conn.c hands to dispatch: request header (api_key, api_version,
 * correlation_id, client_id, tags when flexible) then the body. The first 4
 * bytes pick the API and version; a pair we have no codec for is folded onto
 * one we have (fuzz_kafka_codecs.h fz_pick), so every input reaches a
 * decoder. Captured client traffic is therefore a valid seed as it is.
 *
 * Runs: kafka_req_header_peek, kafka_req_header_read (header v1 and v2, and
 * the version the API table picks), then the body decoder, then the codec
 * round trip; also decodes the whole input as a consumer-protocol
 * subscription and assignment (the JoinGroup/SyncGroup metadata bytes the
 * frontend decodes). */
#include "fuzz.h"
#include "fuzz_kafka_codecs.h"
#include "kafka_consumer_protocol.h"
#include "log.h"

int eddy_fuzz_init(void) {
    fz_apis_init();
    return 0;
}

static void consumer_protocol(const uint8_t *data, size_t size) {
    arena a;
    arena_init(&a);
    kafka_reader r;
    kafka_consumer_subscription s;
    kr_init(&r, data, size);
    if (kafka_consumer_subscription_decode(&r, &a, &s) == 0) {
        kafka_writer w;
        kw_init(&w);
        kafka_consumer_subscription_encode(&w, s.version < 0 || s.version > 3 ? 3 : s.version,
                                           &s);
        kw_free(&w);
    }
    kafka_consumer_assignment as;
    kr_init(&r, data, size);
    if (kafka_consumer_assignment_decode(&r, &a, &as) == 0) {
        kafka_writer w;
        kw_init(&w);
        kafka_consumer_assignment_encode(&w, as.version < 0 || as.version > 3 ? 3 : as.version,
                                         &as);
        kw_free(&w);
    }
    arena_free(&a);
}

int eddy_fuzz_one(const uint8_t *data, size_t size) {
    kafka_req_header h;
    (void)kafka_req_header_peek(data, size, &h);

    /* the header reader, at every header version it serves */
    for (int16_t hv = 1; hv <= 2; hv++) {
        kafka_reader r;
        kr_init(&r, data, size);
        kafka_req_header hh;
        if (kafka_req_header_read(&r, hv, &hh) == 0)
            FZ_CHECK(hh.client_id.len < 0 || (hh.client_id.ptr >= (const char *)data &&
                                              hh.client_id.ptr + hh.client_id.len <=
                                                  (const char *)data + size));
    }

    if (size < 4) {
        consumer_protocol(data, size);
        return 0;
    }
    uint16_t key = (uint16_t)(data[0] << 8 | data[1]);
    uint16_t ver = (uint16_t)(data[2] << 8 | data[3]);
    int16_t v;
    const fz_api *api = fz_pick(key, ver, &v);

    /* header of the version the table picks; when the wire key/version are
     * not the picked ones, the header is read anyway (the bytes are what
     * they are) and the body decoded as the picked API */
    kafka_reader r;
    kr_init(&r, data, size);
    int16_t hv = fz_flexible(api->api_key, v) ? 2 : 1;
    kafka_req_header hh;
    if (kafka_req_header_read(&r, hv, &hh) == 0)
        (void)api->req(&r, v);
    consumer_protocol(data, size);
    return 0;
}
