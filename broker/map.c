/* map.c — the broker's indexed copy of the cluster map. */
#include "map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct br_map {
    Eddy__ClusterMap *cm;
    /* open addressing, power-of-two sized, values are indexes into
     * cm->topics + 1 (0 = empty slot) */
    uint32_t *by_id, *by_name;
    size_t slots;
};

static uint64_t fnv1a(const void *p, size_t n) {
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

br_map *br_map_new(void) { return calloc(1, sizeof(br_map)); }

static void clear(br_map *m) {
    if (m->cm)
        protobuf_c_message_free_unpacked(&m->cm->base, NULL);
    free(m->by_id);
    free(m->by_name);
    m->cm = NULL;
    m->by_id = m->by_name = NULL;
    m->slots = 0;
}

void br_map_free(br_map *m) {
    if (!m)
        return;
    clear(m);
    free(m);
}

int br_map_set_packed(br_map *m, const uint8_t *buf, size_t len) {
    Eddy__ClusterMap *cm = eddy__cluster_map__unpack(NULL, len, buf);
    if (!cm)
        return -EBADMSG;
    size_t slots = 16;
    while (slots < cm->n_topics * 2)
        slots <<= 1;
    uint32_t *by_id = calloc(slots, sizeof *by_id), *by_name = calloc(slots, sizeof *by_name);
    if (!by_id || !by_name) {
        free(by_id);
        free(by_name);
        eddy__cluster_map__free_unpacked(cm, NULL);
        return -ENOMEM;
    }
    for (size_t i = 0; i < cm->n_topics; i++) {
        const Eddy__TopicInfo *t = cm->topics[i];
        size_t k = fnv1a(t->topic_id.data, t->topic_id.len) & (slots - 1);
        while (by_id[k])
            k = (k + 1) & (slots - 1);
        by_id[k] = (uint32_t)i + 1;
        k = fnv1a(t->name, strlen(t->name)) & (slots - 1);
        while (by_name[k])
            k = (k + 1) & (slots - 1);
        by_name[k] = (uint32_t)i + 1;
    }
    clear(m);
    m->cm = cm;
    m->by_id = by_id;
    m->by_name = by_name;
    m->slots = slots;
    return 0;
}

uint64_t br_map_version(const br_map *m) { return m->cm ? m->cm->version : 0; }

const Eddy__ClusterMap *br_map_get(const br_map *m) { return m->cm; }

const Eddy__TopicInfo *br_map_topic_by_id(const br_map *m, const uint8_t *id, size_t len) {
    if (!m->cm || len == 0)
        return NULL;
    for (size_t k = fnv1a(id, len) & (m->slots - 1); m->by_id[k]; k = (k + 1) & (m->slots - 1)) {
        const Eddy__TopicInfo *t = m->cm->topics[m->by_id[k] - 1];
        if (t->topic_id.len == len && !memcmp(t->topic_id.data, id, len))
            return t;
    }
    return NULL;
}

const Eddy__TopicInfo *br_map_topic_by_name(const br_map *m, const char *name) {
    if (!m->cm || !name || !*name)
        return NULL;
    size_t n = strlen(name);
    for (size_t k = fnv1a(name, n) & (m->slots - 1); m->by_name[k];
         k = (k + 1) & (m->slots - 1)) {
        const Eddy__TopicInfo *t = m->cm->topics[m->by_name[k] - 1];
        if (!strcmp(t->name, name))
            return t;
    }
    return NULL;
}

const Eddy__PartitionPlacement *br_map_placement(const Eddy__TopicInfo *t, int32_t partition) {
    if (partition < 0)
        return NULL;
    /* the controller writes placements in partition order */
    if ((size_t)partition < t->n_partitions && t->partitions[partition]->partition == partition)
        return t->partitions[partition];
    for (size_t i = 0; i < t->n_partitions; i++)
        if (t->partitions[i]->partition == partition)
            return t->partitions[i];
    return NULL;
}

const Eddy__BrokerInfo *br_map_broker(const br_map *m, int32_t id) {
    for (size_t i = 0; m->cm && i < m->cm->n_brokers; i++)
        if (m->cm->brokers[i]->id == id)
            return m->cm->brokers[i];
    return NULL;
}

Eddy__Status br_map_check(const br_map *m, int32_t self, const char *name,
                          const ProtobufCBinaryData *topic_id, int32_t partition,
                          const Eddy__TopicInfo **t, const Eddy__PartitionPlacement **pl) {
    const Eddy__TopicInfo *ti = topic_id && topic_id->len
                                    ? br_map_topic_by_id(m, topic_id->data, topic_id->len)
                                    : br_map_topic_by_name(m, name);
    if (!ti)
        return EDDY__STATUS__UNKNOWN_PARTITION;
    const Eddy__PartitionPlacement *p = br_map_placement(ti, partition);
    if (!p)
        return EDDY__STATUS__UNKNOWN_PARTITION;
    if (t)
        *t = ti;
    if (pl)
        *pl = p;
    /* a fenced partition is handing over (broker/mover.h): its owner takes
     * nothing more, so that the move target's copy is final */
    return p->broker_id == self && self >= 0 && !p->fenced ? EDDY__STATUS__OK
                                                          : EDDY__STATUS__NOT_OWNER;
}

const char *br_map_config(const Eddy__TopicInfo *t, const char *name) {
    for (size_t i = 0; t && i < t->n_configs; i++)
        if (!strcmp(t->configs[i]->name, name))
            return t->configs[i]->value;
    return NULL;
}

int64_t br_map_config_i64(const Eddy__TopicInfo *t, const char *name, int64_t def) {
    const char *s = br_map_config(t, name);
    if (!s || !*s)
        return def;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno || *end ? def : (int64_t)v;
}
