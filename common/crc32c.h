/* crc32c.h — CRC-32C (Castagnoli), as used by Kafka record batches. */
#ifndef EDDY_CRC32C_H
#define EDDY_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/** Extend @p crc (0 to start) over @p len bytes. Uses SSE4.2 when the CPU has
 *  it, a table otherwise. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

/** The same CRC always computed with the table (for tests and benchmarks that
 *  compare the two paths). */
uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif
