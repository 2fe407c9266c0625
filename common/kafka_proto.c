#include "kafka_proto.h"

#include <errno.h>

int kafka_req_header_peek(const void *frame, size_t len, kafka_req_header *h) {
    kafka_reader r;
    kr_init(&r, frame, len);
    h->api_key = kr_i16(&r);
    h->api_version = kr_i16(&r);
    h->correlation_id = kr_i32(&r);
    h->client_id.ptr = NULL;
    h->client_id.len = -1;
    h->header_version = 0;
    return kr_ok(&r) ? 0 : -EBADMSG;
}

int kafka_req_header_read(kafka_reader *r, int16_t header_version, kafka_req_header *h) {
    h->api_key = kr_i16(r);
    h->api_version = kr_i16(r);
    h->correlation_id = kr_i32(r);
    h->header_version = header_version;
    h->client_id.ptr = NULL;
    h->client_id.len = -1;
    if (header_version >= 1)
        h->client_id = kr_nstring(r, false); /* never compact, even in v2 */
    if (header_version >= 2)
        kr_skip_tags(r, true);
    return kr_ok(r) ? 0 : -EBADMSG;
}

void kafka_req_header_write(kafka_writer *w, const kafka_req_header *h) {
    kw_i16(w, h->api_key);
    kw_i16(w, h->api_version);
    kw_i32(w, h->correlation_id);
    if (h->header_version >= 1)
        kw_str(w, false, h->client_id);
    if (h->header_version >= 2)
        kw_tags_empty(w, true);
}

void kafka_resp_header_write(kafka_writer *w, int32_t correlation_id, int16_t header_version) {
    kw_i32(w, correlation_id);
    if (header_version >= 1)
        kw_tags_empty(w, true);
}

int kafka_node_endpoints_decode(kafka_reader *sub, arena *a, kafka_node_endpoint **out,
                                int32_t *n_out) {
    /* node id, host, port, rack, tags */
    int32_t n = kr_count(sub, true, 11, false);
    if (!ARENA_ALLOC_N(a, *out, n))
        return -ENOMEM;
    *n_out = n;
    for (int32_t i = 0; i < n && kr_ok(sub); i++) {
        kafka_node_endpoint *e = &(*out)[i];
        e->node_id = kr_i32(sub);
        e->host = kr_string(sub, true);
        e->port = kr_i32(sub);
        e->rack = kr_nstring(sub, true);
        kr_skip_tags(sub, true);
    }
    return 0;
}

void kafka_node_endpoints_write_tags(kafka_writer *w, const kafka_node_endpoint *eps, int32_t n) {
    /* the tagged field's size comes first, so compute it */
    size_t size = kw_uvarint_size((uint32_t)n + 1);
    for (int32_t i = 0; i < n; i++)
        size += 4 + kw_compact_str_size(eps[i].host) + 4 + kw_compact_str_size(eps[i].rack) + 1;
    kw_uvarint(w, 1); /* one tagged field */
    kw_uvarint(w, 0); /* tag 0 */
    kw_uvarint(w, (uint32_t)size);
    kw_array(w, true, n);
    for (int32_t i = 0; i < n; i++) {
        kw_i32(w, eps[i].node_id);
        kw_str(w, true, eps[i].host);
        kw_i32(w, eps[i].port);
        kw_str(w, true, eps[i].rack);
        kw_tags_empty(w, true);
    }
}

const char *kafka_err_name(int16_t code) {
    switch (code) {
    case KAFKA_ERR_NONE: return "NONE";
    case KAFKA_ERR_UNKNOWN_SERVER_ERROR: return "UNKNOWN_SERVER_ERROR";
    case KAFKA_ERR_OFFSET_OUT_OF_RANGE: return "OFFSET_OUT_OF_RANGE";
    case KAFKA_ERR_CORRUPT_MESSAGE: return "CORRUPT_MESSAGE";
    case KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION: return "UNKNOWN_TOPIC_OR_PARTITION";
    case KAFKA_ERR_NOT_LEADER_OR_FOLLOWER: return "NOT_LEADER_OR_FOLLOWER";
    case KAFKA_ERR_REQUEST_TIMED_OUT: return "REQUEST_TIMED_OUT";
    case KAFKA_ERR_MESSAGE_TOO_LARGE: return "MESSAGE_TOO_LARGE";
    case KAFKA_ERR_UNSUPPORTED_VERSION: return "UNSUPPORTED_VERSION";
    case KAFKA_ERR_TOPIC_ALREADY_EXISTS: return "TOPIC_ALREADY_EXISTS";
    case KAFKA_ERR_INVALID_PARTITIONS: return "INVALID_PARTITIONS";
    case KAFKA_ERR_INVALID_REQUEST: return "INVALID_REQUEST";
    case KAFKA_ERR_KAFKA_STORAGE_ERROR: return "KAFKA_STORAGE_ERROR";
    case KAFKA_ERR_SASL_AUTHENTICATION_FAILED: return "SASL_AUTHENTICATION_FAILED";
    default: return "UNKNOWN";
    }
}

const char *kafka_api_name(int16_t k) {
    switch (k) {
    case KAFKA_PRODUCE: return "Produce";
    case KAFKA_FETCH: return "Fetch";
    case KAFKA_LIST_OFFSETS: return "ListOffsets";
    case KAFKA_METADATA: return "Metadata";
    case KAFKA_OFFSET_COMMIT: return "OffsetCommit";
    case KAFKA_OFFSET_FETCH: return "OffsetFetch";
    case KAFKA_FIND_COORDINATOR: return "FindCoordinator";
    case KAFKA_JOIN_GROUP: return "JoinGroup";
    case KAFKA_HEARTBEAT: return "Heartbeat";
    case KAFKA_LEAVE_GROUP: return "LeaveGroup";
    case KAFKA_SYNC_GROUP: return "SyncGroup";
    case KAFKA_DESCRIBE_GROUPS: return "DescribeGroups";
    case KAFKA_LIST_GROUPS: return "ListGroups";
    case KAFKA_SASL_HANDSHAKE: return "SaslHandshake";
    case KAFKA_API_VERSIONS: return "ApiVersions";
    case KAFKA_CREATE_TOPICS: return "CreateTopics";
    case KAFKA_DELETE_TOPICS: return "DeleteTopics";
    case KAFKA_DELETE_RECORDS: return "DeleteRecords";
    case KAFKA_INIT_PRODUCER_ID: return "InitProducerId";
    case KAFKA_OFFSET_FOR_LEADER_EPOCH: return "OffsetForLeaderEpoch";
    case KAFKA_DESCRIBE_CONFIGS: return "DescribeConfigs";
    case KAFKA_ALTER_CONFIGS: return "AlterConfigs";
    case KAFKA_SASL_AUTHENTICATE: return "SaslAuthenticate";
    case KAFKA_CREATE_PARTITIONS: return "CreatePartitions";
    case KAFKA_DELETE_GROUPS: return "DeleteGroups";
    case KAFKA_INCREMENTAL_ALTER_CONFIGS: return "IncrementalAlterConfigs";
    case KAFKA_OFFSET_DELETE: return "OffsetDelete";
    case KAFKA_DESCRIBE_CLUSTER: return "DescribeCluster";
    case KAFKA_DESCRIBE_PRODUCERS: return "DescribeProducers";
    default: return NULL;
    }
}

bool kafka_topic_name_valid(const char *p, size_t n) {
    if (n == 0 || n > KAFKA_TOPIC_NAME_MAX)
        return false;
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}
