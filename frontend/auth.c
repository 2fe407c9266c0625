#include "auth.h"

#include <string.h>

#include "kafka_proto.h"

static bool in_scope(const fe_conn *c, const char *topic, size_t len) {
    if (!c->entity_path[0])
        return true;
    /* Event Hubs compares entity names case-insensitively; Kafka topic names
     * are case-sensitive, and so are we: a scope names exactly one topic. */
    return strlen(c->entity_path) == len && !memcmp(c->entity_path, topic, len);
}

bool fe_auth_topic_visible(const fe_conn *c, const char *topic) {
    return in_scope(c, topic, strlen(topic));
}

int16_t fe_auth_topic(const fe_conn *c, unsigned right, const char *topic, size_t len) {
    if (!(c->rights & right) || !in_scope(c, topic, len))
        return KAFKA_ERR_TOPIC_AUTHORIZATION_FAILED;
    return KAFKA_ERR_NONE;
}

int16_t fe_auth_group(const fe_conn *c) {
    return (c->rights & FE_RIGHT_LISTEN) ? KAFKA_ERR_NONE : KAFKA_ERR_GROUP_AUTHORIZATION_FAILED;
}

int16_t fe_auth_cluster(const fe_conn *c, unsigned right) {
    /* a topic-scoped session never administers the cluster */
    if (!(c->rights & right) || c->entity_path[0])
        return KAFKA_ERR_CLUSTER_AUTHORIZATION_FAILED;
    return KAFKA_ERR_NONE;
}
