#include "kafka_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "byteorder.h"

#define KW_CHUNK 4096
/* Below this an owned segment is copied into the evbuffer: cheaper than a
 * reference chain entry for the many tiny responses. */
#define KW_COPY_BELOW 1024

void kw_init(kafka_writer *w) { memset(w, 0, sizeof *w); }

static void seg_release(kw_segment *s) {
    if (s->cap)
        free(s->data);
    else if (s->evb)
        evbuffer_free(s->evb);
    else if (s->release)
        s->release(s->owner);
}

void kw_free(kafka_writer *w) {
    for (size_t i = 0; i < w->nsegs; i++)
        seg_release(&w->segs[i]);
    free(w->segs);
    memset(w, 0, sizeof *w);
}

static kw_segment *push_seg(kafka_writer *w) {
    if (w->nsegs == w->capsegs) {
        size_t n = w->capsegs ? w->capsegs * 2 : 8;
        kw_segment *s = realloc(w->segs, n * sizeof *s);
        if (!s) {
            w->err = -ENOMEM;
            return NULL;
        }
        w->segs = s;
        w->capsegs = n;
    }
    kw_segment *s = &w->segs[w->nsegs++];
    memset(s, 0, sizeof *s);
    return s;
}

/* Room for n contiguous bytes at the end of an owned segment. */
static uint8_t *room(kafka_writer *w, size_t n) {
    if (w->err)
        return NULL;
    kw_segment *s = w->nsegs ? &w->segs[w->nsegs - 1] : NULL;
    if (!s || !s->cap || s->cap - s->len < n) {
        size_t cap = KW_CHUNK;
        if (s && s->cap && s->cap < (1u << 20))
            cap = s->cap * 2;
        if (cap < n)
            cap = n;
        uint8_t *d = malloc(cap);
        if (!d) {
            w->err = -ENOMEM;
            return NULL;
        }
        s = push_seg(w);
        if (!s) {
            free(d);
            return NULL;
        }
        s->data = d;
        s->cap = cap;
    }
    uint8_t *p = s->data + s->len;
    s->len += n;
    w->total += n;
    return p;
}

void kw_raw(kafka_writer *w, const void *p, size_t n) {
    if (!n)
        return;
    uint8_t *d = room(w, n);
    if (d)
        memcpy(d, p, n);
}

void kw_i8(kafka_writer *w, int8_t v) {
    uint8_t *d = room(w, 1);
    if (d)
        d[0] = (uint8_t)v;
}

void kw_i16(kafka_writer *w, int16_t v) {
    uint8_t *d = room(w, 2);
    if (d)
        be_put16(d, (uint16_t)v);
}

void kw_u32(kafka_writer *w, uint32_t v) {
    uint8_t *d = room(w, 4);
    if (d)
        be_put32(d, v);
}

void kw_i32(kafka_writer *w, int32_t v) { kw_u32(w, (uint32_t)v); }

void kw_i64(kafka_writer *w, int64_t v) {
    uint8_t *d = room(w, 8);
    if (d)
        be_put64(d, (uint64_t)v);
}

void kw_bool(kafka_writer *w, bool v) { kw_i8(w, v ? 1 : 0); }

void kw_f64(kafka_writer *w, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    kw_i64(w, (int64_t)u);
}

static void write_leb(kafka_writer *w, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        tmp[n++] = b | (v ? 0x80 : 0);
    } while (v);
    kw_raw(w, tmp, n);
}

void kw_uvarint(kafka_writer *w, uint32_t v) { write_leb(w, v); }

size_t kw_uvarint_size(uint32_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t kw_compact_str_size(kafka_str s) {
    return s.len < 0 ? 1 : kw_uvarint_size((uint32_t)s.len + 1) + (size_t)s.len;
}
void kw_varint(kafka_writer *w, int32_t v) {
    write_leb(w, (uint32_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31)));
}
void kw_varlong(kafka_writer *w, int64_t v) {
    write_leb(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void kw_uuid(kafka_writer *w, const kafka_uuid *u) { kw_raw(w, u->b, 16); }

void kw_string(kafka_writer *w, bool flex, const char *s, int32_t len) {
    if (len < 0) {
        if (flex)
            kw_uvarint(w, 0);
        else
            kw_i16(w, -1);
        return;
    }
    if (flex)
        kw_uvarint(w, (uint32_t)len + 1);
    else
        kw_i16(w, (int16_t)len);
    kw_raw(w, s, (size_t)len);
}

void kw_cstr(kafka_writer *w, bool flex, const char *s) {
    kw_string(w, flex, s, s ? (int32_t)strlen(s) : -1);
}

void kw_str(kafka_writer *w, bool flex, kafka_str s) { kw_string(w, flex, s.ptr, s.len); }

void kw_bytes(kafka_writer *w, bool flex, const void *p, int32_t len) {
    if (len < 0) {
        if (flex)
            kw_uvarint(w, 0);
        else
            kw_i32(w, -1);
        return;
    }
    if (flex)
        kw_uvarint(w, (uint32_t)len + 1);
    else
        kw_i32(w, len);
    kw_raw(w, p, (size_t)len);
}

void kw_array(kafka_writer *w, bool flex, int32_t n) {
    if (flex)
        kw_uvarint(w, n < 0 ? 0 : (uint32_t)n + 1);
    else
        kw_i32(w, n);
}

void kw_tags_empty(kafka_writer *w, bool flex) {
    if (flex)
        kw_uvarint(w, 0);
}

void kw_ref(kafka_writer *w, const void *p, size_t n, kw_release_fn release, void *owner) {
    kw_segment *s = w->err ? NULL : push_seg(w);
    if (!s) {
        if (release)
            release(owner);
        return;
    }
    s->data = (uint8_t *)p;
    s->len = n;
    s->cap = 0;
    s->release = release;
    s->owner = owner;
    w->total += n;
}

void kw_evbuffer(kafka_writer *w, struct evbuffer *buf) {
    kw_segment *s = w->err ? NULL : push_seg(w);
    if (!s) {
        evbuffer_free(buf);
        return;
    }
    s->evb = buf;
    s->len = evbuffer_get_length(buf);
    w->total += s->len;
}

kw_mark kw_reserve_i32(kafka_writer *w) {
    kw_mark m = {0, 0};
    uint8_t *d = room(w, 4);
    if (d) {
        m.seg = w->nsegs - 1;
        m.off = (size_t)(d - w->segs[m.seg].data);
        memset(d, 0, 4);
    }
    return m;
}

void kw_patch_i32(kafka_writer *w, kw_mark m, int32_t v) {
    if (w->err || m.seg >= w->nsegs)
        return;
    be_put32(w->segs[m.seg].data + m.off, (uint32_t)v);
}

static void free_cleanup(const void *data, size_t len, void *extra) {
    (void)len;
    (void)extra;
    free((void *)data);
}

static void ref_cleanup(const void *data, size_t len, void *extra) {
    (void)data;
    (void)len;
    kw_segment *s = extra;
    s->release(s->owner);
    free(s);
}

int kw_to_evbuffer(kafka_writer *w, struct evbuffer *out) {
    if (w->err)
        return w->err;
    int r = 0;
    for (size_t i = 0; i < w->nsegs; i++) {
        kw_segment *s = &w->segs[i];
        if (r < 0) {
            seg_release(s);
            continue;
        }
        if (s->evb) {
            /* chains change hands; dst is ours and unfrozen, so this only
             * fails on a bug */
            if (evbuffer_add_buffer(out, s->evb) < 0)
                r = -ENOMEM;
            evbuffer_free(s->evb);
        } else if (s->cap) {
            if (s->len < KW_COPY_BELOW) {
                if (evbuffer_add(out, s->data, s->len) < 0)
                    r = -ENOMEM;
                free(s->data);
            } else if (evbuffer_add_reference(out, s->data, s->len, free_cleanup, NULL) < 0) {
                free(s->data);
                r = -ENOMEM;
            }
        } else if (!s->release) {
            if (evbuffer_add_reference(out, s->data, s->len, NULL, NULL) < 0)
                r = -ENOMEM;
        } else {
            /* the cleanup needs release+owner: keep a small heap copy */
            kw_segment *keep = malloc(sizeof *keep);
            if (keep)
                *keep = *s;
            if (!keep || evbuffer_add_reference(out, s->data, s->len, ref_cleanup, keep) < 0) {
                free(keep);
                seg_release(s);
                r = -ENOMEM;
            }
        }
    }
    free(w->segs);
    memset(w, 0, sizeof *w);
    return r;
}

int kw_flatten(kafka_writer *w, uint8_t **out, size_t *len) {
    if (w->err)
        return w->err;
    uint8_t *buf = malloc(w->total ? w->total : 1);
    if (!buf)
        return -ENOMEM;
    size_t off = 0;
    for (size_t i = 0; i < w->nsegs; i++) {
        kw_segment *s = &w->segs[i];
        if (s->evb)
            evbuffer_copyout(s->evb, buf + off, s->len);
        else if (s->len)
            memcpy(buf + off, s->data, s->len);
        off += s->len;
    }
    *out = buf;
    *len = off;
    return 0;
}
