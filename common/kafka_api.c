#include "kafka_api.h"

#include <stddef.h>

#include "kafka_proto.h"

#define NOFLEX INT16_MAX

/* Ranges: what clients from Kafka 1.0 to 4.x send, as defined by the protocol
 * message definitions. Produce/Fetch stop below the versions that address
 * topics by id only where noted in docs/design.md. */
static const kafka_api_info api_table[] = {
    {KAFKA_PRODUCE, 0, 11, 9, 3},
    {KAFKA_FETCH, 4, 17, 12, 4},
    {KAFKA_LIST_OFFSETS, 0, 10, 6, 0},
    {KAFKA_METADATA, 0, 12, 9, 0},
    {KAFKA_API_VERSIONS, 0, 4, 3, 0},
    {KAFKA_CREATE_TOPICS, 0, 7, 5, 0},
    {KAFKA_DELETE_TOPICS, 0, 6, 4, 0},
    {KAFKA_OFFSET_FOR_LEADER_EPOCH, 0, 4, 4, 0},
    {KAFKA_CREATE_PARTITIONS, 0, 3, 2, 0},
    {KAFKA_DESCRIBE_CONFIGS, 0, 4, 4, 0},
    {KAFKA_DESCRIBE_CLUSTER, 0, 1, 0, 0},
    /* idempotent producer (no transactions: docs/delivery.md) */
    {KAFKA_INIT_PRODUCER_ID, 0, 5, 2, 0},
    {KAFKA_DESCRIBE_PRODUCERS, 0, 0, 0, 0},
    /* groups: from v0, which librdkafka needs to enable its group consumer */
    {KAFKA_OFFSET_COMMIT, 0, 9, 8, 0},
    {KAFKA_OFFSET_FETCH, 0, 9, 6, 0},
    {KAFKA_FIND_COORDINATOR, 0, 6, 3, 0},
    {KAFKA_JOIN_GROUP, 0, 9, 6, 0},
    {KAFKA_HEARTBEAT, 0, 4, 4, 0},
    {KAFKA_LEAVE_GROUP, 0, 5, 4, 0},
    {KAFKA_SYNC_GROUP, 0, 5, 4, 0},
    {KAFKA_DESCRIBE_GROUPS, 0, 5, 5, 0},
    {KAFKA_LIST_GROUPS, 0, 5, 3, 0},
    {KAFKA_DELETE_GROUPS, 0, 2, 2, 0},
    {KAFKA_OFFSET_DELETE, 0, 0, NOFLEX, 0},
    {KAFKA_SASL_HANDSHAKE, 0, 1, NOFLEX, 0},
    {KAFKA_SASL_AUTHENTICATE, 0, 2, 2, 0},
};

const kafka_api_info *kafka_api_lookup(int16_t api_key) {
    for (size_t i = 0; i < sizeof api_table / sizeof api_table[0]; i++)
        if (api_table[i].api_key == api_key)
            return &api_table[i];
    return NULL;
}

const kafka_api_info *kafka_api_all(int *n) {
    *n = (int)(sizeof api_table / sizeof api_table[0]);
    return api_table;
}

bool kafka_api_is_flexible(int16_t api_key, int16_t version) {
    const kafka_api_info *a = kafka_api_lookup(api_key);
    if (api_key == KAFKA_API_VERSIONS)
        return version >= 3;
    return a && version >= a->flex_from;
}

int16_t kafka_api_req_header_version(int16_t api_key, int16_t version) {
    return kafka_api_is_flexible(api_key, version) ? 2 : 1;
}

int16_t kafka_api_resp_header_version(int16_t api_key, int16_t version) {
    /* ApiVersions responses keep header v0 so that a client can always parse
     * them before it knows what we support (KIP-511). */
    if (api_key == KAFKA_API_VERSIONS)
        return 0;
    return kafka_api_is_flexible(api_key, version) ? 1 : 0;
}
