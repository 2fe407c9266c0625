/* api_versions.c — ApiVersions: what we serve, from the one table. */
#include <errno.h>

#include "api.h"
#include "kafka_api.h"
#include "kafka_apiversions.h"
#include "stats.h"

static void answer(fe_req *req, int16_t version, int16_t error_code) {
    int n;
    const kafka_api_info *all = kafka_api_all(&n);
    kafka_apiversions_key keys[KAFKA_API_KEY_MAX];
    int k = 0;
    for (int i = 0; i < n && k < KAFKA_API_KEY_MAX; i++) {
        keys[k].api_key = all[i].api_key;
        keys[k].min_version = all[i].min_version;
        keys[k].max_version = all[i].max_version;
        k++;
    }
    kafka_apiversions_resp resp = {
        .error_code = error_code, .api_keys = keys, .n_api_keys = k, .throttle_time_ms = 0};
    kafka_writer w;
    fe_resp_begin(req, &w);
    kafka_apiversions_resp_encode(&w, version, &resp);
    fe_req_finish(req, &w);
}

void fe_api_versions_unsupported(fe_req *req) {
    answer(req, 0, KAFKA_ERR_UNSUPPORTED_VERSION);
}

void fe_api_versions(fe_req *req) {
    kafka_apiversions_req in;
    int r = kafka_apiversions_req_decode(&req->body, req->hdr.api_version, &req->arena, &in);
    if (r == -EBADMSG && req->hdr.api_version >= 3) {
        /* KIP-511: a v3+ request we cannot parse gets INVALID_REQUEST */
        answer(req, req->hdr.api_version, KAFKA_ERR_INVALID_REQUEST);
        return;
    }
    if (r < 0) {
        fe_req_fail(req, "malformed ApiVersions request");
        return;
    }
    answer(req, req->hdr.api_version, KAFKA_ERR_NONE);
}
