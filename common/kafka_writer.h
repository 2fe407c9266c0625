/* kafka_writer.h — builds Kafka wire data (responses, and requests in tests).
 *
 * The writer is a chain of segments: bytes it owns (scalars, strings, copies)
 * and references to bytes owned by someone else (record batches that arrived
 * from a broker), so large payloads are never copied into a response. Errors
 * (only -ENOMEM) are sticky: write everything, then check kw_error() once.
 *
 * Ownership: the writer owns its segments until kw_to_evbuffer() or kw_free();
 * a reference segment calls its release function exactly once, when the bytes
 * are no longer needed (after they were sent, or at kw_free()); an evbuffer
 * segment (kw_evbuffer) owns its evbuffer, whose chains kw_to_evbuffer()
 * moves into the output. */
#ifndef EDDY_KAFKA_WRITER_H
#define EDDY_KAFKA_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kafka_reader.h"

struct evbuffer;

typedef void (*kw_release_fn)(void *owner);

typedef struct kw_segment {
    uint8_t *data;            /* NULL for an evbuffer segment */
    size_t len, cap;          /* cap == 0 for a reference or evbuffer segment */
    kw_release_fn release;    /* reference segments only */
    void *owner;
    struct evbuffer *evb;     /* evbuffer segments only (owned) */
} kw_segment;

typedef struct kafka_writer {
    kw_segment *segs;
    size_t nsegs, capsegs;
    size_t total;             /* bytes written so far */
    int err;                  /* 0 or -ENOMEM */
} kafka_writer;

/** A position in the writer, for back-patching a length written later. */
typedef struct kw_mark {
    size_t seg, off;
} kw_mark;

void kw_init(kafka_writer *w);
/** Release everything (calls release of every reference). Accepts a writer
 *  that was moved out by kw_to_evbuffer(). */
void kw_free(kafka_writer *w);
static inline int kw_error(const kafka_writer *w) { return w->err; }
static inline size_t kw_len(const kafka_writer *w) { return w->total; }

void kw_i8(kafka_writer *w, int8_t v);
void kw_i16(kafka_writer *w, int16_t v);
void kw_i32(kafka_writer *w, int32_t v);
void kw_i64(kafka_writer *w, int64_t v);
void kw_u32(kafka_writer *w, uint32_t v);
void kw_bool(kafka_writer *w, bool v);
void kw_f64(kafka_writer *w, double v);
void kw_uvarint(kafka_writer *w, uint32_t v);
void kw_varint(kafka_writer *w, int32_t v);
void kw_varlong(kafka_writer *w, int64_t v);
void kw_uuid(kafka_writer *w, const kafka_uuid *u);

/** STRING / COMPACT_STRING or the nullable forms: @p len == -1 writes null
 *  (callers must only do so where the field is nullable). */
void kw_string(kafka_writer *w, bool flex, const char *s, int32_t len);
/** Convenience: a NUL-terminated string; NULL writes null. */
void kw_cstr(kafka_writer *w, bool flex, const char *s);
/** Write a kafka_str view as it is (null stays null). */
void kw_str(kafka_writer *w, bool flex, kafka_str s);
/** BYTES / COMPACT_BYTES (copied); len == -1 writes null. */
void kw_bytes(kafka_writer *w, bool flex, const void *p, int32_t len);
/** ARRAY / COMPACT_ARRAY count; n == -1 writes a null array. */
void kw_array(kafka_writer *w, bool flex, int32_t n);
/** An empty tagged-field section when @p flex (no-op otherwise). */
void kw_tags_empty(kafka_writer *w, bool flex);

/** Encoded sizes, for a tagged field whose length is written first. */
size_t kw_uvarint_size(uint32_t v);
size_t kw_compact_str_size(kafka_str s);

/** Copy raw bytes. */
void kw_raw(kafka_writer *w, const void *p, size_t n);
/** Append @p n bytes owned by @p owner without copying; @p release(owner) is
 *  called once when the writer is done with them. On error the release is
 *  called at once. */
void kw_ref(kafka_writer *w, const void *p, size_t n, kw_release_fn release, void *owner);

/** Append the whole content of @p buf without copying: the writer takes
 *  @p buf (freed by the writer, at once on error) and kw_to_evbuffer() moves
 *  its chains into the output. For bytes that arrived in an evbuffer (a
 *  fetch reply's record batches). */
void kw_evbuffer(kafka_writer *w, struct evbuffer *buf);

/** Reserve 4 bytes for an int32 to be filled in later by kw_patch_i32(). */
kw_mark kw_reserve_i32(kafka_writer *w);
void kw_patch_i32(kafka_writer *w, kw_mark m, int32_t v);

/** Move the content into @p out without copying large segments; the writer
 *  is left empty (still needs kw_free or reuse). Returns 0 or -ENOMEM. */
int kw_to_evbuffer(kafka_writer *w, struct evbuffer *out);
/** Copy everything into one malloc'd buffer (tests, small messages).
 *  The caller frees *out. Returns 0 or -errno. */
int kw_flatten(kafka_writer *w, uint8_t **out, size_t *len);

#endif
