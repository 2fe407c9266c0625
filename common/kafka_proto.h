/* kafka_proto.h — Kafka protocol constants and the request/response headers.
 *
 * API keys and error codes are the protocol's own numbers. Error codes appear
 * only where a response is encoded; inside Eddy errors are -errno or RPC
 * status values (see proto/eddy_rpc.proto). */
#ifndef EDDY_KAFKA_PROTO_H
#define EDDY_KAFKA_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

enum kafka_api_key {
    KAFKA_PRODUCE = 0,
    KAFKA_FETCH = 1,
    KAFKA_LIST_OFFSETS = 2,
    KAFKA_METADATA = 3,
    KAFKA_OFFSET_COMMIT = 8,
    KAFKA_OFFSET_FETCH = 9,
    KAFKA_FIND_COORDINATOR = 10,
    KAFKA_JOIN_GROUP = 11,
    KAFKA_HEARTBEAT = 12,
    KAFKA_LEAVE_GROUP = 13,
    KAFKA_SYNC_GROUP = 14,
    KAFKA_DESCRIBE_GROUPS = 15,
    KAFKA_LIST_GROUPS = 16,
    KAFKA_SASL_HANDSHAKE = 17,
    KAFKA_API_VERSIONS = 18,
    KAFKA_CREATE_TOPICS = 19,
    KAFKA_DELETE_TOPICS = 20,
    KAFKA_DELETE_RECORDS = 21,
    KAFKA_INIT_PRODUCER_ID = 22,
    KAFKA_OFFSET_FOR_LEADER_EPOCH = 23,
    KAFKA_DESCRIBE_CONFIGS = 32,
    KAFKA_ALTER_CONFIGS = 33,
    KAFKA_SASL_AUTHENTICATE = 36,
    KAFKA_CREATE_PARTITIONS = 37,
    KAFKA_DELETE_GROUPS = 42,
    KAFKA_INCREMENTAL_ALTER_CONFIGS = 44,
    KAFKA_OFFSET_DELETE = 47,
    KAFKA_DESCRIBE_CLUSTER = 60,
    KAFKA_DESCRIBE_PRODUCERS = 61,
    KAFKA_API_KEY_MAX = 100,
};

enum kafka_error {
    KAFKA_ERR_UNKNOWN_SERVER_ERROR = -1,
    KAFKA_ERR_NONE = 0,
    KAFKA_ERR_OFFSET_OUT_OF_RANGE = 1,
    KAFKA_ERR_CORRUPT_MESSAGE = 2,
    KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KAFKA_ERR_INVALID_FETCH_SIZE = 4,
    KAFKA_ERR_LEADER_NOT_AVAILABLE = 5,
    KAFKA_ERR_NOT_LEADER_OR_FOLLOWER = 6,
    KAFKA_ERR_REQUEST_TIMED_OUT = 7,
    KAFKA_ERR_BROKER_NOT_AVAILABLE = 8,
    KAFKA_ERR_REPLICA_NOT_AVAILABLE = 9,
    KAFKA_ERR_MESSAGE_TOO_LARGE = 10,
    KAFKA_ERR_STALE_CONTROLLER_EPOCH = 11,
    KAFKA_ERR_OFFSET_METADATA_TOO_LARGE = 12,
    KAFKA_ERR_NETWORK_EXCEPTION = 13,
    KAFKA_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    KAFKA_ERR_COORDINATOR_NOT_AVAILABLE = 15,
    KAFKA_ERR_NOT_COORDINATOR = 16,
    KAFKA_ERR_INVALID_TOPIC_EXCEPTION = 17,
    KAFKA_ERR_RECORD_LIST_TOO_LARGE = 18,
    KAFKA_ERR_NOT_ENOUGH_REPLICAS = 19,
    KAFKA_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    KAFKA_ERR_INVALID_REQUIRED_ACKS = 21,
    KAFKA_ERR_ILLEGAL_GENERATION = 22,
    KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    KAFKA_ERR_INVALID_GROUP_ID = 24,
    KAFKA_ERR_UNKNOWN_MEMBER_ID = 25,
    KAFKA_ERR_INVALID_SESSION_TIMEOUT = 26,
    KAFKA_ERR_REBALANCE_IN_PROGRESS = 27,
    KAFKA_ERR_INVALID_COMMIT_OFFSET_SIZE = 28,
    KAFKA_ERR_TOPIC_AUTHORIZATION_FAILED = 29,
    KAFKA_ERR_GROUP_AUTHORIZATION_FAILED = 30,
    KAFKA_ERR_CLUSTER_AUTHORIZATION_FAILED = 31,
    KAFKA_ERR_INVALID_TIMESTAMP = 32,
    KAFKA_ERR_UNSUPPORTED_SASL_MECHANISM = 33,
    KAFKA_ERR_ILLEGAL_SASL_STATE = 34,
    KAFKA_ERR_UNSUPPORTED_VERSION = 35,
    KAFKA_ERR_TOPIC_ALREADY_EXISTS = 36,
    KAFKA_ERR_INVALID_PARTITIONS = 37,
    KAFKA_ERR_INVALID_REPLICATION_FACTOR = 38,
    KAFKA_ERR_INVALID_REPLICA_ASSIGNMENT = 39,
    KAFKA_ERR_INVALID_CONFIG = 40,
    KAFKA_ERR_NOT_CONTROLLER = 41,
    KAFKA_ERR_INVALID_REQUEST = 42,
    KAFKA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    KAFKA_ERR_POLICY_VIOLATION = 44,
    KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER = 46,
    KAFKA_ERR_INVALID_PRODUCER_EPOCH = 47,
    KAFKA_ERR_INVALID_TXN_STATE = 48,
    KAFKA_ERR_INVALID_PRODUCER_ID_MAPPING = 49,
    KAFKA_ERR_INVALID_TRANSACTION_TIMEOUT = 50,
    KAFKA_ERR_CONCURRENT_TRANSACTIONS = 51,
    KAFKA_ERR_TRANSACTION_COORDINATOR_FENCED = 52,
    KAFKA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
    KAFKA_ERR_SECURITY_DISABLED = 54,
    KAFKA_ERR_OPERATION_NOT_ATTEMPTED = 55,
    KAFKA_ERR_KAFKA_STORAGE_ERROR = 56,
    KAFKA_ERR_LOG_DIR_NOT_FOUND = 57,
    KAFKA_ERR_SASL_AUTHENTICATION_FAILED = 58,
    KAFKA_ERR_UNKNOWN_PRODUCER_ID = 59,
    KAFKA_ERR_REASSIGNMENT_IN_PROGRESS = 60,
    KAFKA_ERR_NON_EMPTY_GROUP = 68,
    KAFKA_ERR_GROUP_ID_NOT_FOUND = 69,
    KAFKA_ERR_FETCH_SESSION_ID_NOT_FOUND = 70,
    KAFKA_ERR_INVALID_FETCH_SESSION_EPOCH = 71,
    KAFKA_ERR_FENCED_LEADER_EPOCH = 74,
    KAFKA_ERR_UNKNOWN_LEADER_EPOCH = 75,
    KAFKA_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KAFKA_ERR_OFFSET_NOT_AVAILABLE = 78,
    KAFKA_ERR_MEMBER_ID_REQUIRED = 79,
    KAFKA_ERR_GROUP_MAX_SIZE_REACHED = 81,
    KAFKA_ERR_FENCED_INSTANCE_ID = 82,
    KAFKA_ERR_GROUP_SUBSCRIBED_TO_TOPIC = 86,
    KAFKA_ERR_INVALID_RECORD = 87,
    KAFKA_ERR_UNSTABLE_OFFSET_COMMIT = 88,
    KAFKA_ERR_THROTTLING_QUOTA_EXCEEDED = 89,
    KAFKA_ERR_PRODUCER_FENCED = 90,
    KAFKA_ERR_UNKNOWN_TOPIC_ID = 100,
    KAFKA_ERR_INCONSISTENT_TOPIC_ID = 103,
};

/** The request header, v0-v2. client_id is a view into the frame. */
typedef struct kafka_req_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    kafka_str client_id;  /* len -1 when null or header v0 */
    int16_t header_version; /* 0, 1 or 2 */
} kafka_req_header;

/** Read the fixed start of a request header (api key, version, correlation
 *  id) without consuming it: enough to answer even an unsupported request. */
int kafka_req_header_peek(const void *frame, size_t len, kafka_req_header *h);

/** Read a request header of @p header_version (1 for non-flexible API
 *  versions, 2 for flexible ones; 0 only for ControlledShutdown v0, which we
 *  do not serve). On return the reader is positioned at the request body.
 *  Returns 0 or -EBADMSG. */
int kafka_req_header_read(kafka_reader *r, int16_t header_version, kafka_req_header *h);

/** Write a request header (tests and tools). */
void kafka_req_header_write(kafka_writer *w, const kafka_req_header *h);

/** Write a response header: v0 (correlation id) or v1 (plus empty tags). */
void kafka_resp_header_write(kafka_writer *w, int32_t correlation_id, int16_t header_version);

/** One entry of NodeEndpoints, the tag-0 field of Produce (v10+) and Fetch
 *  (v16+) responses. host and rack are views. */
typedef struct kafka_node_endpoint {
    int32_t node_id;
    kafka_str host;
    int32_t port;
    kafka_str rack;                     /* nullable, default null */
} kafka_node_endpoint;

/** Decode the NodeEndpoints array from the tagged field's own reader @p sub
 *  into @p a. Returns 0 or -ENOMEM; malformed input leaves sub failed. */
int kafka_node_endpoints_decode(kafka_reader *sub, arena *a, kafka_node_endpoint **out,
                                int32_t *n);
/** Write a whole top-level tag section holding only NodeEndpoints (tag 0). */
void kafka_node_endpoints_write_tags(kafka_writer *w, const kafka_node_endpoint *eps, int32_t n);

/** Human-readable name of a Kafka error code ("UNKNOWN" if unknown). */
const char *kafka_err_name(int16_t code);

/** Name of an API key ("Produce", "Fetch", ...) or NULL. */
const char *kafka_api_name(int16_t api_key);

/** Longest topic name Kafka accepts. */
#define KAFKA_TOPIC_NAME_MAX 249

/** Kafka's rule for topic names: 1 to KAFKA_TOPIC_NAME_MAX characters of
 *  [A-Za-z0-9._-], neither "." nor "..". @p p need not be NUL-terminated. */
bool kafka_topic_name_valid(const char *p, size_t n);

#endif
