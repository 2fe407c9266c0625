#include "kafka_reader.h"

#include <errno.h>
#include <string.h>

#include "byteorder.h"

_Static_assert(EBADMSG == 74, "kr_fail() hard-codes EBADMSG");

void kr_init(kafka_reader *r, const void *buf, size_t len) {
    r->p = buf;
    /* NULL + 0 is undefined in C (UBSan flags it): kr_sub() of a failed
     * reader and callers with an empty input pass (NULL, 0) */
    r->end = len ? r->p + len : r->p;
    r->err = 0;
}

/* Every fixed-width read goes through here: one bounds check, one place. */
static const uint8_t *take(kafka_reader *r, size_t n) {
    if (r->err)
        return NULL;
    if ((size_t)(r->end - r->p) < n) {
        r->err = -EBADMSG;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

int8_t kr_i8(kafka_reader *r) {
    const uint8_t *p = take(r, 1);
    return p ? (int8_t)p[0] : 0;
}

uint16_t kr_u16(kafka_reader *r) {
    const uint8_t *p = take(r, 2);
    return p ? be_get16(p) : 0;
}

int16_t kr_i16(kafka_reader *r) { return (int16_t)kr_u16(r); }

uint32_t kr_u32(kafka_reader *r) {
    const uint8_t *p = take(r, 4);
    if (!p)
        return 0;
    return be_get32(p);
}

int32_t kr_i32(kafka_reader *r) { return (int32_t)kr_u32(r); }

int64_t kr_i64(kafka_reader *r) {
    const uint8_t *p = take(r, 8);
    if (!p)
        return 0;
    return (int64_t)be_get64(p);
}

bool kr_bool(kafka_reader *r) { return kr_i8(r) != 0; }

double kr_f64(kafka_reader *r) {
    uint64_t u = (uint64_t)kr_i64(r);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* LEB128 with an explicit width limit: a 6th byte for 32 bits (or an 11th for
 * 64) is malformed rather than silently truncated. */
static uint64_t read_leb(kafka_reader *r, int max_bytes) {
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        const uint8_t *p = take(r, 1);
        if (!p)
            return 0;
        v |= (uint64_t)(p[0] & 0x7f) << (7 * i);
        if (!(p[0] & 0x80))
            return v;
    }
    kr_fail(r);
    return 0;
}

uint32_t kr_uvarint(kafka_reader *r) {
    uint64_t v = read_leb(r, 5);
    if (v > UINT32_MAX) {
        kr_fail(r);
        return 0;
    }
    return (uint32_t)v;
}

int32_t kr_varint(kafka_reader *r) {
    uint32_t u = kr_uvarint(r);
    return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}

int64_t kr_varlong(kafka_reader *r) {
    uint64_t u = read_leb(r, 10);
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}

kafka_uuid kr_uuid(kafka_reader *r) {
    kafka_uuid u;
    const uint8_t *p = take(r, 16);
    if (p)
        memcpy(u.b, p, 16);
    else
        memset(u.b, 0, 16);
    return u;
}

/* Length prefix of strings/bytes: returns -1 for null, -2 on error. Compact
 * forms encode length+1 so that 0 means null. */
static int64_t read_len(kafka_reader *r, bool flex, bool wide) {
    int64_t n;
    if (flex)
        n = (int64_t)kr_uvarint(r) - 1;
    else if (wide)
        n = kr_i32(r);
    else
        n = kr_i16(r);
    if (r->err)
        return -2;
    if (n < -1) {
        kr_fail(r);
        return -2;
    }
    return n;
}

static kafka_str read_str(kafka_reader *r, bool flex, bool nullable) {
    kafka_str s = {NULL, 0};
    int64_t n = read_len(r, flex, false);
    if (n == -2)
        return s;
    if (n == -1) {
        if (!nullable)
            kr_fail(r);
        else
            s.len = -1;
        return s;
    }
    if (n > INT32_MAX) {
        kr_fail(r);
        return s;
    }
    const uint8_t *p = take(r, (size_t)n);
    if (p) {
        s.ptr = (const char *)p;
        s.len = (int32_t)n;
    }
    return s;
}

kafka_str kr_string(kafka_reader *r, bool flex) { return read_str(r, flex, false); }
kafka_str kr_nstring(kafka_reader *r, bool flex) { return read_str(r, flex, true); }

static kafka_bytes read_bytes(kafka_reader *r, bool flex, bool nullable) {
    kafka_bytes b = {NULL, 0};
    int64_t n = read_len(r, flex, true);
    if (n == -2)
        return b;
    if (n == -1) {
        if (!nullable)
            kr_fail(r);
        else
            b.len = -1;
        return b;
    }
    if (n > INT32_MAX) {
        kr_fail(r);
        return b;
    }
    const uint8_t *p = take(r, (size_t)n);
    if (p) {
        b.ptr = p;
        b.len = (int32_t)n;
    }
    return b;
}

kafka_bytes kr_bytes(kafka_reader *r, bool flex) { return read_bytes(r, flex, false); }
kafka_bytes kr_nbytes(kafka_reader *r, bool flex) { return read_bytes(r, flex, true); }

int32_t kr_array(kafka_reader *r, bool flex, size_t min_elem_size) {
    int64_t n = flex ? (int64_t)kr_uvarint(r) - 1 : (int64_t)kr_i32(r);
    if (r->err)
        return 0;
    if (n == -1)
        return -1;
    if (n < -1 || n > INT32_MAX) {
        kr_fail(r);
        return 0;
    }
    if (min_elem_size == 0)
        min_elem_size = 1;
    if ((uint64_t)n > (uint64_t)(r->end - r->p) / min_elem_size) {
        kr_fail(r);
        return 0;
    }
    return (int32_t)n;
}

int32_t kr_count(kafka_reader *r, bool flex, size_t min_elem_size, bool nullable) {
    int32_t n = kr_array(r, flex, min_elem_size);
    if (n < 0 && !nullable) {
        kr_fail(r);
        return 0;
    }
    return n;
}

const uint8_t *kr_raw(kafka_reader *r, size_t n) { return take(r, n); }

kafka_reader kr_sub(kafka_reader *r, size_t n) {
    kafka_reader s;
    const uint8_t *p = take(r, n);
    if (p) {
        kr_init(&s, p, n);
    } else {
        kr_init(&s, NULL, 0);
        s.err = -EBADMSG;
    }
    return s;
}

uint32_t kr_tag_count(kafka_reader *r, bool flex) {
    if (!flex)
        return 0;
    uint32_t n = kr_uvarint(r);
    /* each tagged field takes at least two bytes (tag, size) */
    if (n > kr_remaining(r) / 2) {
        kr_fail(r);
        return 0;
    }
    return n;
}

kafka_reader kr_tag_next(kafka_reader *r, uint32_t *tag) {
    *tag = kr_uvarint(r);
    uint32_t size = kr_uvarint(r);
    return kr_sub(r, size);
}

void kr_skip_tags(kafka_reader *r, bool flex) {
    uint32_t n = kr_tag_count(r, flex);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        uint32_t tag;
        (void)kr_tag_next(r, &tag);
    }
}

bool kafka_str_eq(kafka_str a, const char *s) {
    if (a.len < 0 || !s)
        return a.len < 0 && !s;
    size_t n = strlen(s);
    return (size_t)a.len == n && memcmp(a.ptr, s, n) == 0;
}
