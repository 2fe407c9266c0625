/* test_crc32c.c — CRC-32C against published vectors, a batch written by a
 * real Kafka broker, and the hardware path against the table path. */
#include <stdlib.h>

#include "crc32c.h"
#include "unit.h"

/* A record batch from a Kafka 3.x log segment (one record "Hello Kafka!");
 * its CRC field (bytes 17..20) is 0xabfd0491 as Kafka computed it. */
static const uint8_t kafka_batch[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00,
    0x00, 0x00, 0x02, 0xab, 0xfd, 0x04, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x91, 0xe0, 0x5b, 0x6d, 0x8b, 0x00, 0x00, 0x01, 0x91, 0xe0, 0x5b, 0x6d,
    0x8b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x24, 0x00, 0x00, 0x00, 0x01, 0x18, 0x48, 0x65, 0x6c,
    0x6c, 0x6f, 0x20, 0x4b, 0x61, 0x66, 0x6b, 0x61, 0x21, 0x00};

static void test_vectors(void) {
    CHECK_EQ_INT(crc32c(0, "123456789", 9), 0xE3069283u);
    CHECK_EQ_INT(crc32c_sw(0, "123456789", 9), 0xE3069283u);
    CHECK_EQ_INT(crc32c(0, "", 0), 0);
    /* RFC 3720 B.4 (iSCSI) vectors. */
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    CHECK_EQ_INT(crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof buf);
    CHECK_EQ_INT(crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    CHECK_EQ_INT(crc32c(0, buf, 32), 0x46DD794Eu);
    CHECK_EQ_INT(crc32c_sw(0, buf, 32), 0x46DD794Eu);
}

static void test_kafka_batch(void) {
    uint32_t want = (uint32_t)kafka_batch[17] << 24 | (uint32_t)kafka_batch[18] << 16 |
                    (uint32_t)kafka_batch[19] << 8 | kafka_batch[20];
    CHECK_EQ_INT(want, 0xabfd0491u);
    CHECK_EQ_INT(crc32c(0, kafka_batch + 21, sizeof kafka_batch - 21), want);
    CHECK_EQ_INT(crc32c_sw(0, kafka_batch + 21, sizeof kafka_batch - 21), want);
}

/* Every length and alignment, chained or not, both paths agree. */
static void test_hw_vs_sw(void) {
    enum { N = 1024 };
    uint8_t *buf = malloc(N + 8);
    uint32_t seed = 12345;
    for (int i = 0; i < N + 8; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    int bad = 0;
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len <= N; len += (len < 64 ? 1 : 37)) {
            uint32_t a = crc32c(0, buf + align, len);
            uint32_t b = crc32c_sw(0, buf + align, len);
            size_t half = len / 3;
            uint32_t c = crc32c(crc32c(0, buf + align, half), buf + align + half, len - half);
            if (a != b || a != c)
                bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    free(buf);
}

int main(void) {
    RUN(test_vectors);
    RUN(test_kafka_batch);
    RUN(test_hw_vs_sw);
    return unit_done();
}
