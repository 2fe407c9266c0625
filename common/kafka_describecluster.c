#include "kafka_describecluster.h"

#include <errno.h>

#define DESCRIBECLUSTER_MAX_VERSION 1

/* n comes from kr_array, so it is bounded by the input that remains. */
#define ALLOC_N(a, ptr, n) ((n) <= 0 || ((ptr) = arena_calloc((a), (size_t)(n), sizeof *(ptr))) != NULL)

int kafka_describecluster_req_decode(kafka_reader *r, int16_t v, arena *a, kafka_describecluster_req *out) {
    (void)a;
    *out = (kafka_describecluster_req){.endpoint_type = 1};
    if (v < 0 || v > DESCRIBECLUSTER_MAX_VERSION)
        return -EBADMSG;
    out->include_cluster_authorized_operations = kr_bool(r);
    if (v >= 1)
        out->endpoint_type = kr_i8(r);
    kr_skip_tags(r, true);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_describecluster_req_encode(kafka_writer *w, int16_t v, const kafka_describecluster_req *in) {
    kw_bool(w, in->include_cluster_authorized_operations);
    if (v >= 1)
        kw_i8(w, in->endpoint_type);
    kw_tags_empty(w, true);
}

int kafka_describecluster_resp_decode(kafka_reader *r, int16_t v, arena *a, kafka_describecluster_resp *out) {
    *out = (kafka_describecluster_resp){
        .error_message = {NULL, -1}, .endpoint_type = 1, .controller_id = -1,
        .cluster_authorized_operations = INT32_MIN,
    };
    if (v < 0 || v > DESCRIBECLUSTER_MAX_VERSION)
        return -EBADMSG;
    out->throttle_time_ms = kr_i32(r);
    out->error_code = kr_i16(r);
    out->error_message = kr_nstring(r, true);
    if (v >= 1)
        out->endpoint_type = kr_i8(r);
    out->cluster_id = kr_string(r, true);
    out->controller_id = kr_i32(r);
    /* id, host, port, rack, tags */
    int32_t n = kr_array(r, true, 11);
    if (n < 0)
        kr_fail(r); /* not nullable */
    if (!ALLOC_N(a, out->brokers, n))
        return -ENOMEM;
    out->n_brokers = n < 0 ? 0 : n;
    for (int32_t i = 0; i < n && kr_ok(r); i++) {
        kafka_describecluster_broker *b = &out->brokers[i];
        b->broker_id = kr_i32(r);
        b->host = kr_string(r, true);
        b->port = kr_i32(r);
        b->rack = kr_nstring(r, true);
        kr_skip_tags(r, true);
    }
    out->cluster_authorized_operations = kr_i32(r);
    kr_skip_tags(r, true);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_describecluster_resp_encode(kafka_writer *w, int16_t v, const kafka_describecluster_resp *in) {
    kw_i32(w, in->throttle_time_ms);
    kw_i16(w, in->error_code);
    kw_str(w, true, in->error_message);
    if (v >= 1)
        kw_i8(w, in->endpoint_type);
    kw_str(w, true, in->cluster_id);
    kw_i32(w, in->controller_id);
    kw_array(w, true, in->n_brokers);
    for (int32_t i = 0; i < in->n_brokers; i++) {
        const kafka_describecluster_broker *b = &in->brokers[i];
        kw_i32(w, b->broker_id);
        kw_str(w, true, b->host);
        kw_i32(w, b->port);
        kw_str(w, true, b->rack);
        kw_tags_empty(w, true);
    }
    kw_i32(w, in->cluster_authorized_operations);
    kw_tags_empty(w, true);
}
