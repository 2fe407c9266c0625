#include "kafka_findcoordinator.h"

#include <errno.h>

#define FC_MAX_VERSION 6
#define FC_FLEX_FROM 3

/* Smallest encodings, for kr_array() bounds: a string length is an int16 (a
 * one-byte varint when flexible). */
#define MIN_STR(flex) ((flex) ? 1u : 2u)

int kafka_findcoordinator_req_decode(kafka_reader *r, int16_t v, arena *a,
                                     kafka_findcoordinator_req *out) {
    bool flex = v >= FC_FLEX_FROM;
    *out = (kafka_findcoordinator_req){.key = {"", 0}};
    if (v < 0 || v > FC_MAX_VERSION)
        return -EBADMSG;
    if (v <= 3)
        out->key = kr_string(r, flex);
    if (v >= 1)
        out->key_type = kr_i8(r);
    if (v >= 4) {
        int32_t n = kr_count(r, flex, MIN_STR(flex), false);
        if (n > 0 && !(out->coordinator_keys = arena_calloc(a, (size_t)n, sizeof(kafka_str))))
            return -ENOMEM;
        out->n_coordinator_keys = n;
        for (int32_t i = 0; i < n && kr_ok(r); i++)
            out->coordinator_keys[i] = kr_string(r, flex);
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_findcoordinator_req_encode(kafka_writer *w, int16_t v, const kafka_findcoordinator_req *in) {
    bool flex = v >= FC_FLEX_FROM;
    if (v <= 3)
        kw_str(w, flex, in->key);
    if (v >= 1)
        kw_i8(w, in->key_type);
    if (v >= 4) {
        kw_array(w, flex, in->n_coordinator_keys);
        for (int32_t i = 0; i < in->n_coordinator_keys; i++)
            kw_str(w, flex, in->coordinator_keys[i]);
    }
    kw_tags_empty(w, flex);
}

/* v4+ per-key results; always flexible since v4 > FC_FLEX_FROM. */
static int decode_coordinators(kafka_reader *r, arena *a, kafka_findcoordinator_resp *out) {
    /* key, node id, host, port, error code, error message, tags */
    int32_t n = kr_count(r, true, 1 + 4 + 1 + 4 + 2 + 1 + 1, false);
    if (n > 0 && !(out->coordinators = arena_calloc(a, (size_t)n, sizeof *out->coordinators)))
        return -ENOMEM;
    out->n_coordinators = n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_findcoordinator_coordinator *c = &out->coordinators[i];
        c->key = kr_string(r, true);
        c->node_id = kr_i32(r);
        c->host = kr_string(r, true);
        c->port = kr_i32(r);
        c->error_code = kr_i16(r);
        c->error_message = kr_nstring(r, true);
        kr_skip_tags(r, true);
    }
    return 0;
}

int kafka_findcoordinator_resp_decode(kafka_reader *r, int16_t v, arena *a,
                                      kafka_findcoordinator_resp *out) {
    bool flex = v >= FC_FLEX_FROM;
    *out = (kafka_findcoordinator_resp){.error_message = {"", 0}, .host = {"", 0}};
    if (v < 0 || v > FC_MAX_VERSION)
        return -EBADMSG;
    if (v >= 1)
        out->throttle_time_ms = kr_i32(r);
    if (v <= 3) {
        out->error_code = kr_i16(r);
        if (v >= 1)
            out->error_message = kr_nstring(r, flex);
        out->node_id = kr_i32(r);
        out->host = kr_string(r, flex);
        out->port = kr_i32(r);
    } else {
        int rc = decode_coordinators(r, a, out);
        if (rc < 0)
            return rc;
    }
    kr_skip_tags(r, flex);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_findcoordinator_resp_encode(kafka_writer *w, int16_t v, const kafka_findcoordinator_resp *in) {
    bool flex = v >= FC_FLEX_FROM;
    if (v >= 1)
        kw_i32(w, in->throttle_time_ms);
    if (v <= 3) {
        kw_i16(w, in->error_code);
        if (v >= 1)
            kw_str(w, flex, in->error_message);
        kw_i32(w, in->node_id);
        kw_str(w, flex, in->host);
        kw_i32(w, in->port);
    } else {
        kw_array(w, flex, in->n_coordinators);
        for (int32_t i = 0; i < in->n_coordinators; i++) {
            const kafka_findcoordinator_coordinator *c = &in->coordinators[i];
            kw_str(w, flex, c->key);
            kw_i32(w, c->node_id);
            kw_str(w, flex, c->host);
            kw_i32(w, c->port);
            kw_i16(w, c->error_code);
            kw_str(w, flex, c->error_message);
            kw_tags_empty(w, flex);
        }
    }
    kw_tags_empty(w, flex);
}
