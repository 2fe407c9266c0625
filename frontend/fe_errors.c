#include "fe_errors.h"

#include <errno.h>

#include "kafka_proto.h"

int16_t fe_kafka_error_from_status(Eddy__Status st) {
    switch (st) {
    case EDDY__STATUS__OK: return KAFKA_ERR_NONE;
    /* retriable: the client refreshes metadata and retries */
    case EDDY__STATUS__NOT_OWNER: return KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
    case EDDY__STATUS__STALE_MAP: return KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
    case EDDY__STATUS__UNAVAILABLE: return KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
    case EDDY__STATUS__UNKNOWN_PARTITION: return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    case EDDY__STATUS__OFFSET_OUT_OF_RANGE: return KAFKA_ERR_OFFSET_OUT_OF_RANGE;
    case EDDY__STATUS__CORRUPT_BATCH: return KAFKA_ERR_CORRUPT_MESSAGE;
    case EDDY__STATUS__TOO_LARGE: return KAFKA_ERR_MESSAGE_TOO_LARGE;
    case EDDY__STATUS__STORAGE_ERROR: return KAFKA_ERR_KAFKA_STORAGE_ERROR;
    case EDDY__STATUS__TIMED_OUT: return KAFKA_ERR_REQUEST_TIMED_OUT;
    case EDDY__STATUS__INVALID_REQUEST: return KAFKA_ERR_INVALID_REQUEST;
    case EDDY__STATUS__TOPIC_EXISTS: return KAFKA_ERR_TOPIC_ALREADY_EXISTS;
    case EDDY__STATUS__INVALID_PARTITIONS: return KAFKA_ERR_INVALID_PARTITIONS;
    case EDDY__STATUS__INVALID_CONFIG: return KAFKA_ERR_INVALID_CONFIG;
    case EDDY__STATUS__NOT_CONTROLLER: return KAFKA_ERR_NOT_CONTROLLER;
    case EDDY__STATUS__INVALID_TOPIC: return KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
    /* idempotent produce refusals (broker/producer_state.h) */
    case EDDY__STATUS__OUT_OF_ORDER_SEQUENCE: return KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    case EDDY__STATUS__PRODUCER_EPOCH_STALE: return KAFKA_ERR_INVALID_PRODUCER_EPOCH;
    case EDDY__STATUS__INVALID_PRODUCER_BATCH: return KAFKA_ERR_INVALID_RECORD;
    default: return KAFKA_ERR_UNKNOWN_SERVER_ERROR;
    }
}

int16_t fe_kafka_error_from_rpc_errno(int err) {
    switch (err) {
    case 0: return KAFKA_ERR_NONE;
    case -ETIMEDOUT: return KAFKA_ERR_REQUEST_TIMED_OUT;
    /* the owner is unreachable: clients treat this as a leader change and
     * retry after refreshing metadata */
    case -ECONNREFUSED:
    case -ECONNRESET:
    case -ECANCELED: return KAFKA_ERR_NOT_LEADER_OR_FOLLOWER;
    default: return KAFKA_ERR_UNKNOWN_SERVER_ERROR;
    }
}

int fe_status_wants_refresh(Eddy__Status st) {
    return st == EDDY__STATUS__NOT_OWNER || st == EDDY__STATUS__STALE_MAP ||
           st == EDDY__STATUS__UNKNOWN_PARTITION;
}
