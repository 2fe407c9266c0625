#include "dispatch.h"

#include "api.h"
#include "kafka_api.h"
#include "log.h"
#include "stats.h"

typedef void (*fe_handler_fn)(fe_req *req);

static fe_handler_fn handler_for(int16_t api_key) {
    switch (api_key) {
    case KAFKA_API_VERSIONS: return fe_api_versions;
    case KAFKA_METADATA: return fe_api_metadata;
    case KAFKA_PRODUCE: return fe_api_produce;
    case KAFKA_FETCH: return fe_api_fetch;
    case KAFKA_LIST_OFFSETS: return fe_api_list_offsets;
    case KAFKA_OFFSET_FOR_LEADER_EPOCH: return fe_api_offset_for_leader_epoch;
    case KAFKA_CREATE_TOPICS: return fe_api_create_topics;
    case KAFKA_DELETE_TOPICS: return fe_api_delete_topics;
    case KAFKA_CREATE_PARTITIONS: return fe_api_create_partitions;
    case KAFKA_DESCRIBE_CONFIGS: return fe_api_describe_configs;
    case KAFKA_DESCRIBE_CLUSTER: return fe_api_describe_cluster;
    case KAFKA_SASL_HANDSHAKE: return fe_api_sasl_handshake;
    case KAFKA_SASL_AUTHENTICATE: return fe_api_sasl_authenticate;
    case KAFKA_INIT_PRODUCER_ID: return fe_api_init_producer_id;
    case KAFKA_DESCRIBE_PRODUCERS: return fe_api_describe_producers;
    case KAFKA_FIND_COORDINATOR:
    case KAFKA_JOIN_GROUP:
    case KAFKA_SYNC_GROUP:
    case KAFKA_HEARTBEAT:
    case KAFKA_LEAVE_GROUP:
    case KAFKA_OFFSET_COMMIT:
    case KAFKA_OFFSET_FETCH:
    case KAFKA_LIST_GROUPS:
    case KAFKA_DESCRIBE_GROUPS:
    case KAFKA_DELETE_GROUPS:
    case KAFKA_OFFSET_DELETE: return fe_api_group;
    default: return NULL;
    }
}

/* Before SASL completes only these may be sent (KIP-43). */
static bool allowed_unauthenticated(int16_t api_key) {
    return api_key == KAFKA_API_VERSIONS || api_key == KAFKA_SASL_HANDSHAKE ||
           api_key == KAFKA_SASL_AUTHENTICATE;
}

void fe_dispatch(fe_req *req) {
    fe_conn *c = req->conn;
    if (c->sasl_handshake_v0) {
        /* after SaslHandshake v0 the next frame is a bare SASL token */
        fe_api_sasl_raw(req);
        return;
    }
    kafka_req_header peek;
    if (kafka_req_header_peek(req->frame->data, req->frame->len, &peek) < 0) {
        fe_req_fail(req, "truncated request header");
        return;
    }
    req->hdr = peek;
    const kafka_api_info *api = kafka_api_lookup(peek.api_key);
    fe_handler_fn fn = api ? handler_for(peek.api_key) : NULL;
    if (!fn) {
        fe_req_fail(req, "unsupported API key");
        return;
    }
    if (peek.api_version < api->min_version || peek.api_version > api->max_version) {
        if (peek.api_key == KAFKA_API_VERSIONS) {
            /* KIP-511: answer in v0 so that the client can pick a version */
            fe_stats_request_error(req->worker->stats, peek.api_key);
            fe_api_versions_unsupported(req);
        } else {
            fe_req_fail(req, "unsupported API version");
        }
        return;
    }
    kr_init(&req->body, req->frame->data, req->frame->len);
    int16_t hv = kafka_api_req_header_version(peek.api_key, peek.api_version);
    if (kafka_req_header_read(&req->body, hv, &req->hdr) < 0) {
        fe_req_fail(req, "malformed request header");
        return;
    }
    req->flexible = kafka_api_is_flexible(peek.api_key, peek.api_version);
    if (!c->authenticated && !allowed_unauthenticated(peek.api_key)) {
        fe_req_fail(req, "request before SASL authentication");
        return;
    }
    if (c->session_expiry_ms && !allowed_unauthenticated(peek.api_key) &&
        fe_wall_ms() >= c->session_expiry_ms) {
        /* KIP-368: the SAS token expired and the client did not re-authenticate */
        fe_req_fail(req, "SASL session expired");
        return;
    }
    fn(req);
}
