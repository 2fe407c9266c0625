/* fuzz_kafka_codecs.h — every Kafka API codec behind one signature, for the
 * request and response fuzz targets (header-only: static functions).
 *
 * For each API, codec_<stem>_req() / _resp() decodes a body, and when that
 * succeeds checks the round-trip property: encode(decode(x)) decodes again,
 * and re-encoding that gives the same bytes (encode o decode is a fixed
 * point after one pass). A failure there means the encoder and the decoder
 * disagree on a field's presence or form for that version: a codec bug that
 * our tests and tools would trip on. */
#ifndef EDDY_FUZZ_KAFKA_CODECS_H
#define EDDY_FUZZ_KAFKA_CODECS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fuzz.h"
#include "kafka_api.h"
#include "kafka_proto.h"
#include "kafka_reader.h"
#include "kafka_writer.h"

#include "kafka_alterconfigs.h"
#include "kafka_apiversions.h"
#include "kafka_createpartitions.h"
#include "kafka_createtopics.h"
#include "kafka_deletegroups.h"
#include "kafka_deletetopics.h"
#include "kafka_describecluster.h"
#include "kafka_describeconfigs.h"
#include "kafka_describeproducers.h"
#include "kafka_describegroups.h"
#include "kafka_fetch.h"
#include "kafka_findcoordinator.h"
#include "kafka_heartbeat.h"
#include "kafka_incrementalalterconfigs.h"
#include "kafka_initproducerid.h"
#include "kafka_joingroup.h"
#include "kafka_leavegroup.h"
#include "kafka_listgroups.h"
#include "kafka_listoffsets.h"
#include "kafka_metadata.h"
#include "kafka_offsetcommit.h"
#include "kafka_offsetdelete.h"
#include "kafka_offsetfetch.h"
#include "kafka_offsetforleaderepoch.h"
#include "kafka_produce.h"
#include "kafka_saslauthenticate.h"
#include "kafka_saslhandshake.h"
#include "kafka_syncgroup.h"

/* Flatten @p w into a malloc'd block (NULL on OOM: the caller skips the
 * check, OOM is not a finding). */
static inline uint8_t *fz_flatten(kafka_writer *w, size_t *len) {
    uint8_t *p = NULL;
    if (kw_error(w) || kw_flatten(w, &p, len) < 0)
        return NULL;
    return p;
}

/* X(api_key, stem): one line per API with a codec in common/. */
#define FZ_APIS(X)                                                           \
    X(KAFKA_PRODUCE, produce)                                                \
    X(KAFKA_FETCH, fetch)                                                    \
    X(KAFKA_LIST_OFFSETS, listoffsets)                                       \
    X(KAFKA_METADATA, metadata)                                              \
    X(KAFKA_OFFSET_COMMIT, offsetcommit)                                     \
    X(KAFKA_OFFSET_FETCH, offsetfetch)                                       \
    X(KAFKA_FIND_COORDINATOR, findcoordinator)                               \
    X(KAFKA_JOIN_GROUP, joingroup)                                           \
    X(KAFKA_HEARTBEAT, heartbeat)                                            \
    X(KAFKA_LEAVE_GROUP, leavegroup)                                         \
    X(KAFKA_SYNC_GROUP, syncgroup)                                           \
    X(KAFKA_DESCRIBE_GROUPS, describegroups)                                 \
    X(KAFKA_LIST_GROUPS, listgroups)                                         \
    X(KAFKA_SASL_HANDSHAKE, saslhandshake)                                   \
    X(KAFKA_API_VERSIONS, apiversions)                                       \
    X(KAFKA_CREATE_TOPICS, createtopics)                                     \
    X(KAFKA_DELETE_TOPICS, deletetopics)                                     \
    X(KAFKA_INIT_PRODUCER_ID, initproducerid)                                \
    X(KAFKA_OFFSET_FOR_LEADER_EPOCH, offsetforleaderepoch)                   \
    X(KAFKA_DESCRIBE_CONFIGS, describeconfigs)                               \
    X(KAFKA_ALTER_CONFIGS, alterconfigs)                                     \
    X(KAFKA_SASL_AUTHENTICATE, saslauthenticate)                             \
    X(KAFKA_CREATE_PARTITIONS, createpartitions)                             \
    X(KAFKA_DELETE_GROUPS, deletegroups)                                     \
    X(KAFKA_INCREMENTAL_ALTER_CONFIGS, incrementalalterconfigs)              \
    X(KAFKA_OFFSET_DELETE, offsetdelete)                                     \
    X(KAFKA_DESCRIBE_CLUSTER, describecluster)                               \
    X(KAFKA_DESCRIBE_PRODUCERS, describeproducers)

/* One decode + round-trip check for stem/kind (req or resp). */
#define FZ_DEFINE_CODEC(stem, kind)                                              \
    static int fz_##stem##_##kind(kafka_reader *r, int16_t v) {                  \
        arena a1, a2;                                                            \
        arena_init(&a1);                                                         \
        arena_init(&a2);                                                         \
        kafka_##stem##_##kind m1, m2;                                            \
        memset(&m1, 0, sizeof m1);                                               \
        memset(&m2, 0, sizeof m2);                                               \
        int rc = kafka_##stem##_##kind##_decode(r, v, &a1, &m1);                 \
        if (rc == 0) {                                                           \
            kafka_writer w1, w2;                                                 \
            kw_init(&w1);                                                        \
            kw_init(&w2);                                                        \
            kafka_##stem##_##kind##_encode(&w1, v, &m1);                         \
            size_t l1 = 0, l2 = 0;                                               \
            uint8_t *b1 = fz_flatten(&w1, &l1), *b2 = NULL;                      \
            if (b1) {                                                            \
                kafka_reader r2;                                                 \
                kr_init(&r2, b1, l1);                                            \
                int rc2 = kafka_##stem##_##kind##_decode(&r2, v, &a2, &m2);      \
                FZ_CHECK_RT(rc2 != -EBADMSG, #stem "_" #kind " re-decode", v);   \
                if (rc2 == 0) {                                                  \
                    kafka_##stem##_##kind##_encode(&w2, v, &m2);                 \
                    b2 = fz_flatten(&w2, &l2);                                   \
                    FZ_CHECK_RT(!b2 || (l1 == l2 && memcmp(b1, b2, l1) == 0),    \
                                #stem "_" #kind " re-encode differs", v);        \
                }                                                                \
            }                                                                    \
            free(b1);                                                            \
            free(b2);                                                            \
            kw_free(&w1);                                                        \
            kw_free(&w2);                                                        \
        }                                                                        \
        arena_free(&a1);                                                         \
        arena_free(&a2);                                                         \
        return rc;                                                               \
    }

#define FZ_CHECK_RT(cond, what, v)                                               \
    do {                                                                         \
        if (!(cond)) {                                                           \
            char _m[160];                                                        \
            snprintf(_m, sizeof _m, "%s (version %d)", what, (int)(v));          \
            fuzz_fail(__FILE__, __LINE__, _m);                                   \
        }                                                                        \
    } while (0)

#define FZ_DEFINE_BOTH(key, stem) FZ_DEFINE_CODEC(stem, req) FZ_DEFINE_CODEC(stem, resp)
FZ_APIS(FZ_DEFINE_BOTH)

typedef int (*fz_codec_fn)(kafka_reader *r, int16_t version);

typedef struct fz_api {
    int16_t api_key;
    int16_t min_version, max_version;
    fz_codec_fn req, resp;
} fz_api;

/* Codecs for APIs that are not in the served table (kafka_api.c) but exist
 * in common/ for tools and tests: their version ranges, from their headers. */
static inline void fz_extra_range(int16_t key, int16_t *lo, int16_t *hi) {
    *lo = 0;
    *hi = 0;
    if (key == KAFKA_ALTER_CONFIGS)
        *hi = 2;
    else if (key == KAFKA_INCREMENTAL_ALTER_CONFIGS)
        *hi = 1;
    else if (key == KAFKA_INIT_PRODUCER_ID)
        *hi = 5;
}

#define FZ_ENTRY(key, stem) {key, 0, 0, fz_##stem##_req, fz_##stem##_resp},
static fz_api fz_apis[] = {FZ_APIS(FZ_ENTRY)};
#define FZ_N_APIS ((int)(sizeof fz_apis / sizeof fz_apis[0]))

/* Fill the version ranges from the served table (or fz_extra_range). */
static inline void fz_apis_init(void) {
    for (int i = 0; i < FZ_N_APIS; i++) {
        const kafka_api_info *info = kafka_api_lookup(fz_apis[i].api_key);
        if (info) {
            fz_apis[i].min_version = info->min_version;
            fz_apis[i].max_version = info->max_version;
        } else {
            fz_extra_range(fz_apis[i].api_key, &fz_apis[i].min_version,
                           &fz_apis[i].max_version);
        }
    }
}

/* Map any (key, version) pair onto an API and version we have a codec for:
 * an exact match is kept (so captured traffic replays as itself), anything
 * else is folded in by modulo, so every input exercises some decoder. */
static inline const fz_api *fz_pick(uint16_t key, uint16_t version, int16_t *v) {
    const fz_api *api = NULL;
    for (int i = 0; i < FZ_N_APIS; i++)
        if (fz_apis[i].api_key == (int16_t)key)
            api = &fz_apis[i];
    if (!api)
        api = &fz_apis[key % FZ_N_APIS];
    int16_t lo = api->min_version, hi = api->max_version;
    if ((int16_t)version >= lo && (int16_t)version <= hi)
        *v = (int16_t)version;
    else
        *v = (int16_t)(lo + version % (uint16_t)(hi - lo + 1));
    return api;
}

/* Flexible-ness of a codec version: the served table, or from the extras'
 * own definitions (AlterConfigs v2+, IncrementalAlterConfigs v1+,
 * InitProducerId v2+). */
static inline bool fz_flexible(int16_t key, int16_t v) {
    if (kafka_api_lookup(key))
        return kafka_api_is_flexible(key, v);
    if (key == KAFKA_ALTER_CONFIGS)
        return v >= 2;
    if (key == KAFKA_INCREMENTAL_ALTER_CONFIGS)
        return v >= 1;
    if (key == KAFKA_INIT_PRODUCER_ID)
        return v >= 2;
    return false;
}

#endif
