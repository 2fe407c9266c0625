/* kafka_reader.h — the bounds-checked reader for Kafka wire data.
 *
 * Every byte that arrives from a client or peer is read through this reader.
 * The reader has a sticky error: the first read that would run past the end,
 * or that finds an impossible length, sets r->err = -EBADMSG, and every later
 * read returns zero / empty without touching memory. A decoder therefore reads
 * its fields in order and checks kr_ok() once at the end (or before any
 * allocation sized by a count, which kr_array() already bounds).
 *
 * Strings and bytes are views (pointer, length) into the caller's buffer; the
 * reader never allocates and never copies. The caller owns the buffer and must
 * keep it alive as long as it uses the views. */
#ifndef EDDY_KAFKA_READER_H
#define EDDY_KAFKA_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A string view. len == -1 means a null string; ptr is not NUL-terminated. */
typedef struct kafka_str {
    const char *ptr;
    int32_t len;
} kafka_str;

/** A bytes view. len == -1 means null. */
typedef struct kafka_bytes {
    const uint8_t *ptr;
    int32_t len;
} kafka_bytes;

typedef struct kafka_uuid {
    uint8_t b[16];
} kafka_uuid;

typedef struct kafka_reader {
    const uint8_t *p;    /* next unread byte */
    const uint8_t *end;  /* one past the last readable byte */
    int err;             /* 0, or -EBADMSG once anything was malformed */
} kafka_reader;

/** Start reading @p len bytes at @p buf. */
void kr_init(kafka_reader *r, const void *buf, size_t len);

static inline bool kr_ok(const kafka_reader *r) { return r->err == 0; }
static inline size_t kr_remaining(const kafka_reader *r) {
    return r->err ? 0 : (size_t)(r->end - r->p);
}
/** Mark the reader malformed (for semantic checks made by decoders). */
static inline void kr_fail(kafka_reader *r) {
    if (!r->err)
        r->err = -74; /* -EBADMSG on Linux; kept literal to spare errno.h here */
}

int8_t kr_i8(kafka_reader *r);
int16_t kr_i16(kafka_reader *r);
int32_t kr_i32(kafka_reader *r);
int64_t kr_i64(kafka_reader *r);
uint16_t kr_u16(kafka_reader *r);
uint32_t kr_u32(kafka_reader *r);
bool kr_bool(kafka_reader *r);
double kr_f64(kafka_reader *r);
/** Unsigned LEB128 varint up to 32 bits (Kafka's "unsigned varint"). */
uint32_t kr_uvarint(kafka_reader *r);
/** Zig-zag signed varint (32-bit) and varlong (64-bit), as in record fields. */
int32_t kr_varint(kafka_reader *r);
int64_t kr_varlong(kafka_reader *r);
kafka_uuid kr_uuid(kafka_reader *r);

/** A STRING (flex=false: int16 length) or COMPACT_STRING (flex=true: uvarint
 *  length+1). Null is malformed for these non-nullable forms. */
kafka_str kr_string(kafka_reader *r, bool flex);
/** NULLABLE_STRING / COMPACT_NULLABLE_STRING: null gives len == -1. */
kafka_str kr_nstring(kafka_reader *r, bool flex);
/** BYTES / COMPACT_BYTES (int32 length or uvarint length+1). */
kafka_bytes kr_bytes(kafka_reader *r, bool flex);
/** NULLABLE_BYTES / COMPACT_NULLABLE_BYTES (RECORDS uses this form). */
kafka_bytes kr_nbytes(kafka_reader *r, bool flex);

/** Read an ARRAY / COMPACT_ARRAY element count. Returns -1 for a null array.
 *  The count is refused (sticky error, returns 0) when count * min_elem_size
 *  exceeds the bytes that remain, so a caller may allocate count elements
 *  without trusting the peer. min_elem_size must be >= 1. */
int32_t kr_array(kafka_reader *r, bool flex, size_t min_elem_size);

/** kr_array() for fields where a null array is malformed unless @p nullable:
 *  returns the count, or -1 for null (only when nullable). */
int32_t kr_count(kafka_reader *r, bool flex, size_t min_elem_size, bool nullable);

/** Return a pointer to the next @p n bytes and advance past them, or NULL
 *  (sticky error) when fewer remain. */
const uint8_t *kr_raw(kafka_reader *r, size_t n);

/** Split off the next @p n bytes as their own reader and advance past them. */
kafka_reader kr_sub(kafka_reader *r, size_t n);

/** Skip a tagged-field section if @p flex (no-op otherwise). */
void kr_skip_tags(kafka_reader *r, bool flex);

/** Tagged-field iteration for decoders that know some tags:
 *    uint32_t n = kr_tag_count(r, flex);
 *    for (i < n) { uint32_t tag; kafka_reader v = kr_tag_next(r, &tag); ... }
 *  Unknown tags are simply not looked at. */
uint32_t kr_tag_count(kafka_reader *r, bool flex);
kafka_reader kr_tag_next(kafka_reader *r, uint32_t *tag);

/** True when the string view equals the NUL-terminated @p s. */
bool kafka_str_eq(kafka_str a, const char *s);

#endif
