/* gen_codec_seeds.c — one seed per API, version and direction for the
 * kafka_request / kafka_response targets, from the real encoders: a request
 * or response with every field at its zero value (empty arrays and strings).
 * Captured traffic covers the versions real clients send; these cover the
 * rest, so that the fuzzer starts inside every version's decoder. Built on
 * demand:
 *   ninja -C BUILD tests/fuzz/gen-codec-seeds && BUILD/tests/fuzz/gen-codec-seeds tests/fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_kafka_codecs.h"

/* the codec header defines these for the targets; unused here */
int eddy_fuzz_init(void) { return 0; }
int eddy_fuzz_one(const uint8_t *data, size_t size) {
    (void)data;
    (void)size;
    return 0;
}

static const char *outdir;

static void dump(const char *kind, int16_t key, int16_t v, kafka_writer *w, const char *suffix) {
    uint8_t *p;
    size_t n;
    if (kw_flatten(w, &p, &n) < 0)
        exit(1);
    char path[512];
    snprintf(path, sizeof path, "%s/%s/gen-%d-v%d%s", outdir, kind, key, v, suffix);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fwrite(p, 1, n, f);
    fclose(f);
    free(p);
}

#define FZ_GEN(key, stem)                                                        \
    static void gen_##stem(int16_t v, bool flex) {                               \
        kafka_writer w;                                                          \
        kafka_##stem##_req q;                                                    \
        memset(&q, 0, sizeof q);                                                 \
        kw_init(&w);                                                             \
        kafka_req_header h = {.api_key = key, .api_version = v,                  \
                              .correlation_id = 1,                               \
                              .client_id = {"seed", 4},                          \
                              .header_version = (int16_t)(flex ? 2 : 1)};        \
        kafka_req_header_write(&w, &h);                                          \
        kafka_##stem##_req_encode(&w, v, &q);                                    \
        dump("kafka_request", key, v, &w, "");                                   \
        kw_free(&w);                                                             \
        kafka_##stem##_resp s;                                                   \
        memset(&s, 0, sizeof s);                                                 \
        kw_init(&w);                                                             \
        kw_i16(&w, key);                                                         \
        kw_i16(&w, v);                                                           \
        kafka_resp_header_write(&w, 1,                                           \
                                (int16_t)(flex && key != KAFKA_API_VERSIONS));   \
        kafka_##stem##_resp_encode(&w, v, &s);                                   \
        dump("kafka_response", key, v, &w, "");                                  \
        kw_free(&w);                                                             \
    }
FZ_APIS(FZ_GEN)

/* A DescribeProducers request and response with content (the zero-valued
 * ones above have empty arrays): two topics with partitions; a partition with
 * two active producers and one with an error message. */
static void gen_describeproducers_full(void) {
    kafka_writer w;
    int32_t p_orders[] = {0, 1, 2}, p_pay[] = {5};
    kafka_describeproducers_topic t[] = {{{"orders", 6}, p_orders, 3}, {{"payments", 8}, p_pay, 1}};
    kafka_describeproducers_req q = {t, 2};
    kw_init(&w);
    kafka_req_header h = {.api_key = KAFKA_DESCRIBE_PRODUCERS, .api_version = 0,
                          .correlation_id = 7, .client_id = {"seed", 4}, .header_version = 2};
    kafka_req_header_write(&w, &h);
    kafka_describeproducers_req_encode(&w, 0, &q);
    dump("kafka_request", KAFKA_DESCRIBE_PRODUCERS, 0, &w, "-topics");
    kw_free(&w);

    kafka_describeproducers_producer pr[] = {{1000, 0, 41, 1700000000000LL, -1, -1},
                                             {1001, 3, -1, -1, 0, -1}};
    static const char msg[] = "This server does not host this topic-partition.";
    kafka_describeproducers_partition pa[] = {{0, 0, {NULL, -1}, pr, 2},
                                              {1, 3, {msg, sizeof msg - 1}, NULL, 0}};
    kafka_describeproducers_topic_resp tr[] = {{{"orders", 6}, pa, 2}};
    kafka_describeproducers_resp s = {0, tr, 1};
    kw_init(&w);
    kw_i16(&w, KAFKA_DESCRIBE_PRODUCERS);
    kw_i16(&w, 0);
    kafka_resp_header_write(&w, 7, 1);
    kafka_describeproducers_resp_encode(&w, 0, &s);
    dump("kafka_response", KAFKA_DESCRIBE_PRODUCERS, 0, &w, "-producers");
    kw_free(&w);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    fz_apis_init();
#define FZ_RUN(key, stem)                                                        \
    for (int i = 0; i < FZ_N_APIS; i++)                                          \
        if (fz_apis[i].api_key == key)                                           \
            for (int16_t v = fz_apis[i].min_version; v <= fz_apis[i].max_version; v++) \
                gen_##stem(v, fz_flexible(key, v));
    FZ_APIS(FZ_RUN)
    gen_describeproducers_full();
    return 0;
}
