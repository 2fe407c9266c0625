/* batch_build.h — build valid v2 record batches for tests and benchmarks
 * (uncompressed, CreateTime, no producer id), independently of
 * kafka_records.c except for the CRC. Header-only: static functions. */
#ifndef EDDY_TEST_BATCH_BUILD_H
#define EDDY_TEST_BATCH_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crc32c.h"

static inline size_t tb_put_be(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return (size_t)n;
}

/* Zig-zag varint as in Kafka records. */
static inline size_t tb_put_varint(uint8_t *p, int64_t v) {
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

/* Bytes a batch of @p nrec records with @p value_len values needs at most. */
static inline size_t tb_batch_cap(int nrec, size_t value_len) {
    return 61 + (size_t)nrec * (value_len + 64);
}

/* Write at @p buf a batch of @p nrec records (null key, value of
 * @p value_len bytes of @p fill, timestamps base_ts + i). Returns its length. */
static inline size_t tb_batch(uint8_t *buf, int nrec, int64_t base_ts, size_t value_len,
                              uint8_t fill) {
    uint8_t *p = buf + 61;
    for (int i = 0; i < nrec; i++) {
        uint8_t body[48];
        size_t b = 0;
        body[b++] = 0;                          /* attributes */
        b += tb_put_varint(body + b, i);        /* timestampDelta */
        b += tb_put_varint(body + b, i);        /* offsetDelta */
        b += tb_put_varint(body + b, -1);       /* null key */
        b += tb_put_varint(body + b, (int64_t)value_len);
        size_t rlen = b + value_len + 1;        /* + headers count */
        p += tb_put_varint(p, (int64_t)rlen);
        memcpy(p, body, b);
        p += b;
        memset(p, fill, value_len);
        p += value_len;
        *p++ = 0;                               /* no headers */
    }
    size_t total = (size_t)(p - buf);
    uint8_t *h = buf;
    h += tb_put_be(h, 0, 8);                            /* baseOffset */
    h += tb_put_be(h, (uint64_t)(total - 12), 4);       /* batchLength */
    h += tb_put_be(h, 0, 4);                            /* leader epoch */
    *h++ = 2;                                           /* magic */
    h += 4;                                             /* crc, below */
    h += tb_put_be(h, 0, 2);                            /* attributes */
    h += tb_put_be(h, (uint64_t)(nrec - 1), 4);         /* lastOffsetDelta */
    h += tb_put_be(h, (uint64_t)base_ts, 8);
    h += tb_put_be(h, (uint64_t)(base_ts + nrec - 1), 8);
    h += tb_put_be(h, UINT64_MAX, 8);                   /* producerId -1 */
    h += tb_put_be(h, 0xffff, 2);                       /* producerEpoch -1 */
    h += tb_put_be(h, 0xffffffffu, 4);                  /* baseSequence -1 */
    tb_put_be(h, (uint64_t)nrec, 4);
    tb_put_be(buf + 17, crc32c(0, buf + 21, total - 21), 4);
    return total;
}

#endif
