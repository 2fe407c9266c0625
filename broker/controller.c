/* controller.c — the cluster catalog (see controller.h).
 *
 * The catalog lives in plain structs; a ClusterMap message is rebuilt from
 * them (in an arena, pointing at the structs' strings) and packed after each
 * change. The packed form is what is stored and what the local broker
 * installs; the message is what GET_MAP answers. */
#include "controller.h"

#include <errno.h>
#include <inttypes.h>
#include <strings.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "arena.h"
#include "byteorder.h"
#include "kafka_proto.h"
#include "log.h"
#include "producer_state.h"
#include "rebalance.h"

#define CATALOG_KEY "catalog"

typedef struct ctl_broker {
    int32_t id;
    char *address, *stats;
    char *local; /* abstract unix name (rpc_local.h), "" for none */
    bool alive;
    int64_t seen_ms;            /* monotonic; not persisted */
} ctl_broker;

typedef struct ctl_config {
    char *name, *value;
} ctl_config;

typedef struct ctl_topic {
    char *name;
    uint8_t id[16];
    size_t nparts;
    int32_t *owner;
    uint32_t *epoch;
    ctl_config *cfg;
    size_t ncfg;
    bool internal;
} ctl_topic;

struct br_controller {
    br_store *store;
    int32_t default_partitions;
    uint64_t version;
    char *cluster_id;
    int32_t self_id;
    ctl_broker *brokers;
    size_t nbrokers;
    ctl_topic **topics;
    size_t ntopics;
    void (*changed)(void *);
    void *arg;
    /* the current map, rebuilt after each change */
    arena map_arena;
    Eddy__ClusterMap *msg;
    uint8_t *packed;
    size_t packed_len;
    br_producer_ids pids;       /* ALLOC_PRODUCER_ID (producer_state.h) */
    /* partition moves in progress (kept in the map's placements, so they
     * survive a controller restart) */
    struct ctl_move *moves;
    size_t nmoves;
    bool auto_rebalance;        /* balance whenever counts differ by more than one */
    bool rebalance_requested;   /* REBALANCE: balance once, then clear */
};

/* One move: @p target copies topic/partition from its owner (mover.h). */
typedef struct ctl_move {
    uint8_t topic_id[16];
    int32_t partition;
    int32_t target;
    bool fenced;
    int64_t fenced_ms;          /* monotonic; not persisted */
} ctl_move;

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- struct helpers ------------------------------------------------------ */

static void topic_free(ctl_topic *t) {
    if (!t)
        return;
    free(t->name);
    free(t->owner);
    free(t->epoch);
    for (size_t i = 0; i < t->ncfg; i++) {
        free(t->cfg[i].name);
        free(t->cfg[i].value);
    }
    free(t->cfg);
    free(t);
}

static ctl_broker *find_broker(br_controller *c, int32_t id) {
    for (size_t i = 0; i < c->nbrokers; i++)
        if (c->brokers[i].id == id)
            return &c->brokers[i];
    return NULL;
}

static ssize_t find_topic_name(const br_controller *c, const char *name) {
    for (size_t i = 0; i < c->ntopics; i++)
        if (!strcmp(c->topics[i]->name, name))
            return (ssize_t)i;
    return -1;
}

static ssize_t find_topic_id(const br_controller *c, const uint8_t *id, size_t len) {
    if (len != 16)
        return -1;
    for (size_t i = 0; i < c->ntopics; i++)
        if (!memcmp(c->topics[i]->id, id, 16))
            return (ssize_t)i;
    return -1;
}

static int random_bytes(uint8_t *p, size_t n) {
    if (RAND_bytes(p, (int)n) == 1)
        return 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f)
        return -errno;
    size_t got = fread(p, 1, n, f);
    fclose(f);
    return got == n ? 0 : -EIO;
}

/* ---- map message and persistence ----------------------------------------- */

static Eddy__TopicInfo *build_topic(arena *a, const ctl_topic *t) {
    Eddy__TopicInfo *ti = arena_alloc(a, sizeof *ti);
    if (!ti)
        return NULL;
    eddy__topic_info__init(ti);
    ti->name = t->name;
    ti->topic_id.data = (uint8_t *)t->id;
    ti->topic_id.len = 16;
    ti->internal = t->internal;
    ti->n_partitions = t->nparts;
    ti->partitions = arena_calloc(a, t->nparts ? t->nparts : 1, sizeof *ti->partitions);
    Eddy__PartitionPlacement *pl = arena_calloc(a, t->nparts ? t->nparts : 1, sizeof *pl);
    ti->n_configs = t->ncfg;
    ti->configs = arena_calloc(a, t->ncfg ? t->ncfg : 1, sizeof *ti->configs);
    Eddy__ConfigEntry *ce = arena_calloc(a, t->ncfg ? t->ncfg : 1, sizeof *ce);
    if (!ti->partitions || !pl || !ti->configs || !ce)
        return NULL;
    for (size_t i = 0; i < t->nparts; i++) {
        eddy__partition_placement__init(&pl[i]);
        pl[i].partition = (int32_t)i;
        pl[i].broker_id = t->owner[i];
        pl[i].epoch = t->epoch[i];
        ti->partitions[i] = &pl[i];
    }
    for (size_t i = 0; i < t->ncfg; i++) {
        eddy__config_entry__init(&ce[i]);
        ce[i].name = t->cfg[i].name;
        ce[i].value = t->cfg[i].value;
        ti->configs[i] = &ce[i];
    }
    return ti;
}

/* Rebuild the message and the packed map from the structs. */
static int rebuild(br_controller *c) {
    arena a;
    arena_init(&a);
    Eddy__ClusterMap *m = arena_alloc(&a, sizeof *m);
    if (!m)
        goto oom;
    eddy__cluster_map__init(m);
    m->version = c->version;
    m->cluster_id = c->cluster_id;
    m->controller_id = c->self_id;
    m->n_brokers = c->nbrokers;
    m->brokers = arena_calloc(&a, c->nbrokers ? c->nbrokers : 1, sizeof *m->brokers);
    Eddy__BrokerInfo *bi = arena_calloc(&a, c->nbrokers ? c->nbrokers : 1, sizeof *bi);
    m->n_topics = c->ntopics;
    m->topics = arena_calloc(&a, c->ntopics ? c->ntopics : 1, sizeof *m->topics);
    if (!m->brokers || !bi || !m->topics)
        goto oom;
    for (size_t i = 0; i < c->nbrokers; i++) {
        eddy__broker_info__init(&bi[i]);
        bi[i].id = c->brokers[i].id;
        bi[i].address = c->brokers[i].address;
        bi[i].stats_address = c->brokers[i].stats ? c->brokers[i].stats : "";
        bi[i].local_address = c->brokers[i].local ? c->brokers[i].local : "";
        bi[i].alive = c->brokers[i].alive;
        m->brokers[i] = &bi[i];
    }
    for (size_t i = 0; i < c->ntopics; i++)
        if (!(m->topics[i] = build_topic(&a, c->topics[i])))
            goto oom;
    for (size_t k = 0; k < c->nmoves; k++) {
        ssize_t ti = find_topic_id(c, c->moves[k].topic_id, 16);
        if (ti < 0 || (size_t)c->moves[k].partition >= c->topics[ti]->nparts)
            continue;
        Eddy__PartitionPlacement *pl = m->topics[ti]->partitions[c->moves[k].partition];
        pl->moving = true;
        pl->move_target = c->moves[k].target;
        pl->fenced = c->moves[k].fenced;
    }
    size_t len = eddy__cluster_map__get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        goto oom;
    eddy__cluster_map__pack(m, buf);
    arena_free(&c->map_arena);
    free(c->packed);
    c->map_arena = a;
    c->msg = m;
    c->packed = buf;
    c->packed_len = len;
    return 0;
oom:
    arena_free(&a);
    return -ENOMEM;
}

/* Rebuild and write the catalog durably. */
static int persist(br_controller *c) {
    int r = rebuild(c);
    if (r < 0)
        return r;
    return br_store_meta_put(c->store, CATALOG_KEY, c->packed, c->packed_len);
}

static void notify(br_controller *c) {
    if (c->changed)
        c->changed(c->arg);
}

/* Copy an unpacked catalog into the structs. */
static int load(br_controller *c, const Eddy__ClusterMap *m) {
    int64_t now = mono_ms();
    c->version = m->version;
    c->self_id = m->controller_id;
    if (!(c->cluster_id = strdup(m->cluster_id)))
        return -ENOMEM;
    if (m->n_brokers && !(c->brokers = calloc(m->n_brokers, sizeof *c->brokers)))
        return -ENOMEM;
    for (size_t i = 0; i < m->n_brokers; i++) {
        ctl_broker *b = &c->brokers[c->nbrokers++];
        b->id = m->brokers[i]->id;
        b->alive = m->brokers[i]->alive;
        /* every broker gets a full grace period after a controller restart */
        b->seen_ms = now;
        b->address = strdup(m->brokers[i]->address);
        b->stats = strdup(m->brokers[i]->stats_address);
        b->local = strdup(m->brokers[i]->local_address);
        if (!b->address || !b->stats || !b->local)
            return -ENOMEM;
    }
    if (m->n_topics && !(c->topics = calloc(m->n_topics, sizeof *c->topics)))
        return -ENOMEM;
    for (size_t i = 0; i < m->n_topics; i++) {
        const Eddy__TopicInfo *ti = m->topics[i];
        if (ti->topic_id.len != 16)
            return -EBADMSG;
        ctl_topic *t = calloc(1, sizeof *t);
        if (!t)
            return -ENOMEM;
        c->topics[c->ntopics++] = t;
        memcpy(t->id, ti->topic_id.data, 16);
        t->internal = ti->internal;
        if (!(t->name = strdup(ti->name)))
            return -ENOMEM;
        size_t n = ti->n_partitions;
        t->owner = calloc(n ? n : 1, sizeof *t->owner);
        t->epoch = calloc(n ? n : 1, sizeof *t->epoch);
        t->cfg = calloc(ti->n_configs ? ti->n_configs : 1, sizeof *t->cfg);
        if (!t->owner || !t->epoch || !t->cfg)
            return -ENOMEM;
        for (size_t p = 0; p < n; p++) {
            int32_t idx = ti->partitions[p]->partition;
            if (idx < 0 || (size_t)idx >= n)
                return -EBADMSG;
            t->owner[idx] = ti->partitions[p]->broker_id;
            t->epoch[idx] = ti->partitions[p]->epoch;
            if (ti->partitions[p]->moving) {
                ctl_move *nm = realloc(c->moves, (c->nmoves + 1) * sizeof *nm);
                if (!nm)
                    return -ENOMEM;
                c->moves = nm;
                ctl_move *mv = &c->moves[c->nmoves++];
                memset(mv, 0, sizeof *mv);
                memcpy(mv->topic_id, t->id, 16);
                mv->partition = idx;
                mv->target = ti->partitions[p]->move_target;
                mv->fenced = ti->partitions[p]->fenced;
                mv->fenced_ms = now;
            }
        }
        t->nparts = n;
        for (size_t k = 0; k < ti->n_configs; k++) {
            t->cfg[k].name = strdup(ti->configs[k]->name);
            t->cfg[k].value = strdup(ti->configs[k]->value);
            t->ncfg++;
            if (!t->cfg[k].name || !t->cfg[k].value)
                return -ENOMEM;
        }
    }
    return 0;
}

static int fresh(br_controller *c) {
    /* Kafka cluster ids are a base64url UUID without padding (22 chars) */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t raw[16];
    int r = random_bytes(raw, sizeof raw);
    if (r < 0)
        return r;
    char id[23];
    for (int i = 0; i < 22; i++) {
        int bit = i * 6, byte = bit / 8, sh = bit % 8;
        unsigned v = (unsigned)raw[byte] << 8 | (byte + 1 < 16 ? raw[byte + 1] : 0);
        id[i] = b64[(v >> (10 - sh)) & 63];
    }
    id[22] = '\0';
    if (!(c->cluster_id = strdup(id)))
        return -ENOMEM;
    c->version = 1;
    c->self_id = -1;
    return persist(c);
}

int br_controller_open(br_store *store, int32_t default_partitions,
                       void (*changed)(void *arg), void *arg, br_controller **out) {
    br_controller *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->store = store;
    c->default_partitions = default_partitions > 0 ? default_partitions : 1;
    arena_init(&c->map_arena);
    void *val = NULL;
    size_t len = 0;
    int r = br_store_meta_get(store, CATALOG_KEY, &val, &len);
    if (r == -ENOENT) {
        r = fresh(c);
    } else if (r == 0) {
        Eddy__ClusterMap *m = eddy__cluster_map__unpack(NULL, len, val);
        free(val);
        if (!m) {
            r = -EBADMSG;
        } else {
            r = load(c, m);
            eddy__cluster_map__free_unpacked(m, NULL);
            if (r == 0)
                r = rebuild(c);
        }
    }
    if (r < 0) {
        br_controller_free(c);
        return r;
    }
    c->changed = changed;
    c->arg = arg;
    *out = c;
    return 0;
}

void br_controller_free(br_controller *c) {
    if (!c)
        return;
    for (size_t i = 0; i < c->nbrokers; i++) {
        free(c->brokers[i].address);
        free(c->brokers[i].stats);
        free(c->brokers[i].local);
    }
    free(c->brokers);
    for (size_t i = 0; i < c->ntopics; i++)
        topic_free(c->topics[i]);
    free(c->topics);
    free(c->moves);
    free(c->cluster_id);
    arena_free(&c->map_arena);
    free(c->packed);
    free(c);
}

void br_controller_packed(const br_controller *c, const uint8_t **buf, size_t *len) {
    *buf = c->packed;
    *len = c->packed_len;
}

/* ---- brokers --------------------------------------------------------------- */

static int set_str(char **dst, const char *src) {
    if (*dst && !strcmp(*dst, src))
        return 0;
    char *s = strdup(src);
    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 1;
}

int br_controller_register(br_controller *c, int32_t id, const char *address,
                           const char *stats_address, const char *local_address,
                           int32_t *out_id) {
    if (!stats_address)
        stats_address = "";
    if (!local_address)
        local_address = "";
    if (id < -1 || !address || !*address)
        return -EINVAL;
    ctl_broker *b = id >= 0 ? find_broker(c, id) : NULL;
    bool added = false;
    if (!b) {
        if (id < 0) {
            /* the id counter is max(id)+1: brokers are never removed from
             * the catalog, so an id is never handed out twice */
            id = 0;
            for (size_t i = 0; i < c->nbrokers; i++)
                if (c->brokers[i].id >= id)
                    id = c->brokers[i].id + 1;
        }
        ctl_broker *nb = realloc(c->brokers, (c->nbrokers + 1) * sizeof *nb);
        if (!nb)
            return -ENOMEM;
        c->brokers = nb;
        b = &c->brokers[c->nbrokers++];
        memset(b, 0, sizeof *b);
        b->id = id;
        added = true;
    }
    b->seen_ms = mono_ms();
    int ra = set_str(&b->address, address), rs = set_str(&b->stats, stats_address);
    int rl = set_str(&b->local, local_address);
    if (ra < 0 || rs < 0 || rl < 0) {
        if (added && (!b->address || !b->stats || !b->local)) {
            free(b->address);
            free(b->stats);
            free(b->local);
            c->nbrokers--;
        }
        return -ENOMEM;
    }
    bool changed = added || ra > 0 || rs > 0 || rl > 0 || !b->alive;
    b->alive = true;
    *out_id = id;
    if (!changed)
        return 0;
    c->version++;
    int r = persist(c);
    if (r < 0)
        return r;
    LOG_INFO("controller", "broker %d registered at %s (map version %" PRIu64 ")", id, address,
             c->version);
    notify(c);
    return 0;
}

static bool moves_tick(br_controller *c, int64_t now_ms);

void br_controller_set_self(br_controller *c, int32_t id) {
    if (c->self_id == id)
        return;
    c->self_id = id;
    c->version++;
    if (persist(c) < 0)
        LOG_WARN("controller", "could not store the catalog after taking the controller role");
    notify(c);
}

void br_controller_tick(br_controller *c, int64_t now_ms) {
    bool changed = false;
    for (size_t i = 0; i < c->nbrokers; i++) {
        ctl_broker *b = &c->brokers[i];
        if (b->id == c->self_id) {
            b->seen_ms = now_ms;
            continue;
        }
        if (b->alive && now_ms - b->seen_ms > BR_CONTROLLER_DEAD_MS) {
            b->alive = false;
            changed = true;
            LOG_WARN("controller", "broker %d (%s) not heard from for %d ms: marked dead", b->id,
                     b->address, BR_CONTROLLER_DEAD_MS);
        }
    }
    changed |= moves_tick(c, now_ms);
    if (!changed)
        return;
    c->version++;
    /* liveness is kept in memory even when the write fails; the next change
     * writes it again */
    int r = persist(c);
    if (r < 0)
        eddy_log_err(r, "controller", "storing the catalog after a liveness change");
    notify(c);
}

/* ---- topic validation ------------------------------------------------------- */

static bool valid_topic_name(const char *n) { return kafka_topic_name_valid(n, strlen(n)); }

enum cfg_kind { CK_LONG, CK_INT, CK_BOOL, CK_ENUM, CK_LIST, CK_RATIO, CK_ANY };

static const struct {
    const char *name;
    enum cfg_kind kind;
    long long min;
    const char *choices;   /* CK_ENUM / CK_LIST: '|' separated */
} known_configs[] = {
    {"cleanup.policy", CK_LIST, 0, "delete|compact"},
    {"compression.type", CK_ENUM, 0, "uncompressed|zstd|lz4|snappy|gzip|producer"},
    {"delete.retention.ms", CK_LONG, 0, NULL},
    {"file.delete.delay.ms", CK_LONG, 0, NULL},
    {"flush.messages", CK_LONG, 1, NULL},
    {"flush.ms", CK_LONG, 0, NULL},
    {"follower.replication.throttled.replicas", CK_ANY, 0, NULL},
    {"index.interval.bytes", CK_INT, 0, NULL},
    {"leader.replication.throttled.replicas", CK_ANY, 0, NULL},
    {"local.retention.bytes", CK_LONG, -2, NULL},
    {"local.retention.ms", CK_LONG, -2, NULL},
    {"max.compaction.lag.ms", CK_LONG, 1, NULL},
    {"max.message.bytes", CK_INT, 0, NULL},
    {"message.downconversion.enable", CK_BOOL, 0, NULL},
    {"message.format.version", CK_ANY, 0, NULL},
    {"message.timestamp.after.max.ms", CK_LONG, 0, NULL},
    {"message.timestamp.before.max.ms", CK_LONG, 0, NULL},
    {"message.timestamp.difference.max.ms", CK_LONG, 0, NULL},
    {"message.timestamp.type", CK_ENUM, 0, "CreateTime|LogAppendTime"},
    {"min.cleanable.dirty.ratio", CK_RATIO, 0, NULL},
    {"min.compaction.lag.ms", CK_LONG, 0, NULL},
    {"min.insync.replicas", CK_INT, 1, NULL},
    {"preallocate", CK_BOOL, 0, NULL},
    {"remote.storage.enable", CK_BOOL, 0, NULL},
    {"retention.bytes", CK_LONG, -1, NULL},
    {"retention.ms", CK_LONG, -1, NULL},
    {"segment.bytes", CK_INT, 14, NULL},
    {"segment.index.bytes", CK_INT, 4, NULL},
    {"segment.jitter.ms", CK_LONG, 0, NULL},
    {"segment.ms", CK_LONG, 1, NULL},
    {"unclean.leader.election.enable", CK_BOOL, 0, NULL},
};

static bool in_choices(const char *choices, const char *v, size_t vlen) {
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vlen && !strncasecmp(p, v, n))
            return true;
        p += n + (bar ? 1 : 0);
    }
    return false;
}

/* Returns NULL when valid, else a message. */
static const char *check_config(const char *name, const char *v) {
    for (size_t i = 0; i < sizeof known_configs / sizeof known_configs[0]; i++) {
        if (strcmp(known_configs[i].name, name))
            continue;
        char *end;
        switch (known_configs[i].kind) {
        case CK_LONG:
        case CK_INT: {
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (!*v || *end || errno || x < known_configs[i].min ||
                (known_configs[i].kind == CK_INT && x > INT32_MAX))
                return "value out of range or not an integer";
            return NULL;
        }
        case CK_BOOL:
            return !strcasecmp(v, "true") || !strcasecmp(v, "false") ? NULL : "not a boolean";
        case CK_ENUM:
            return in_choices(known_configs[i].choices, v, strlen(v)) ? NULL : "invalid value";
        case CK_LIST: {
            /* comma-separated subset, e.g. "compact,delete" */
            if (!*v)
                return "empty list";
            for (const char *p = v; *p;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                while (n && *p == ' ') {
                    p++;
                    n--;
                }
                while (n && p[n - 1] == ' ')
                    n--;
                if (!in_choices(known_configs[i].choices, p, n))
                    return "invalid value";
                if (!comma)
                    break;
                p = comma + 1;
            }
            return NULL;
        }
        case CK_RATIO: {
            errno = 0;
            double d = strtod(v, &end);
            return !*v || *end || errno || d < 0 || d > 1 ? "not a ratio in [0,1]" : NULL;
        }
        case CK_ANY:
            return NULL;
        }
    }
    return "unknown config";
}

/* ---- placement --------------------------------------------------------------- */

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The alive brokers (the controller's own broker always counts), sorted by
 * id, into a malloc'd array. Returns the count, or -ENOMEM. */
static ssize_t alive_ids(const br_controller *c, int32_t **out) {
    int32_t *alive = calloc(c->nbrokers ? c->nbrokers : 1, sizeof *alive);
    if (!alive)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < c->nbrokers; i++)
        if (c->brokers[i].alive || c->brokers[i].id == c->self_id)
            alive[n++] = c->brokers[i].id;
    qsort(alive, n, sizeof *alive, cmp_i32);
    *out = alive;
    return (ssize_t)n;
}

static const ctl_move *find_move(const br_controller *c, const uint8_t *tid, int32_t partition) {
    for (size_t k = 0; k < c->nmoves; k++)
        if (c->moves[k].partition == partition && !memcmp(c->moves[k].topic_id, tid, 16))
            return &c->moves[k];
    return NULL;
}

/* Every partition of the catalog, flattened for rebalance.h (moves at their
 * targets); of topic @p partial (may be NULL) only partitions below
 * @p upto (the others are being placed). Returns the count and *out, or
 * -ENOMEM. */
static ssize_t flatten(const br_controller *c, const ctl_topic *partial, size_t upto,
                       br_rb_part **out) {
    size_t n = 0;
    for (size_t i = 0; i < c->ntopics; i++)
        n += c->topics[i]->nparts;
    br_rb_part *parts = calloc(n ? n : 1, sizeof *parts);
    if (!parts)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < c->ntopics; i++) {
        const ctl_topic *t = c->topics[i];
        size_t np = t == partial && upto < t->nparts ? upto : t->nparts;
        for (size_t p = 0; p < np; p++, k++) {
            const ctl_move *mv = find_move(c, t->id, (int32_t)p);
            parts[k].owner = t->owner[p];
            parts[k].target = mv ? mv->target : -1;
        }
    }
    *out = parts;
    return (ssize_t)k;
}

/* Place partitions [from, t->nparts) one by one on the least-loaded alive
 * broker (by partition count over all topics, moves counted at their
 * targets); ties start at an offset derived from the topic id so that
 * different topics start on different brokers. */
static int place(br_controller *c, ctl_topic *t, size_t from) {
    int32_t *alive;
    ssize_t n = alive_ids(c, &alive);
    if (n < 0)
        return (int)n;
    if (n == 0) {
        free(alive);
        return -EAGAIN;
    }
    br_rb_part *parts = NULL;
    ssize_t np = flatten(c, t, from, &parts);
    size_t *load = calloc((size_t)n, sizeof *load);
    if (np < 0 || !load) {
        free(alive);
        free(parts);
        free(load);
        return -ENOMEM;
    }
    br_rebalance_load(parts, (size_t)np, alive, (size_t)n, load);
    uint32_t start = be_get32(t->id) % (uint32_t)n;
    for (size_t p = from; p < t->nparts; p++) {
        t->owner[p] = br_rebalance_pick(alive, (size_t)n, load, start + (uint32_t)p);
        t->epoch[p] = 1;
    }
    free(alive);
    free(parts);
    free(load);
    return 0;
}

/* ---- RPC handlers -------------------------------------------------------------- */

static void reply_topic(br_controller *c, rpc_call *call, Eddy__Status st, const char *msg,
                        const ctl_topic *t) {
    Eddy__TopicResult res = EDDY__TOPIC_RESULT__INIT;
    arena a;
    arena_init(&a);
    res.status = st;
    res.error_message = (char *)(msg ? msg : "");
    res.map_version = c->version;
    if (t)
        res.topic = build_topic(&a, t);
    rpc_call_reply(call, EDDY__STATUS__OK, &res.base, NULL);
    arena_free(&a);
}

static void handle_create_topic(br_controller *c, rpc_call *call) {
    Eddy__CreateTopicRequest *req = (Eddy__CreateTopicRequest *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__create_topic_request__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    char msg[256];
    ctl_topic *t = NULL;
    Eddy__Status st = EDDY__STATUS__OK;
    int32_t n = req->num_partitions == -1 ? c->default_partitions : req->num_partitions;
    if (!valid_topic_name(req->name)) {
        st = EDDY__STATUS__INVALID_TOPIC;
        snprintf(msg, sizeof msg, "invalid topic name \"%.60s\": 1-249 of [a-zA-Z0-9._-]",
                 req->name);
    } else if (find_topic_name(c, req->name) >= 0) {
        st = EDDY__STATUS__TOPIC_EXISTS;
        snprintf(msg, sizeof msg, "topic %.200s already exists", req->name);
    } else if (n <= 0 || n > BR_MAX_PARTITIONS) {
        st = EDDY__STATUS__INVALID_PARTITIONS;
        snprintf(msg, sizeof msg, "partition count %d not in 1..%d", req->num_partitions,
                 BR_MAX_PARTITIONS);
    }
    for (size_t i = 0; st == EDDY__STATUS__OK && i < req->n_configs; i++) {
        const char *why = check_config(req->configs[i]->name, req->configs[i]->value);
        for (size_t k = 0; !why && k < i; k++)
            if (!strcmp(req->configs[k]->name, req->configs[i]->name))
                why = "given twice";
        if (why) {
            st = EDDY__STATUS__INVALID_CONFIG;
            snprintf(msg, sizeof msg, "config %.80s=%.80s: %s", req->configs[i]->name,
                     req->configs[i]->value, why);
        }
    }
    if (st != EDDY__STATUS__OK)
        goto out;
    if (!(t = calloc(1, sizeof *t)) || !(t->name = strdup(req->name)) ||
        !(t->owner = calloc((size_t)n, sizeof *t->owner)) ||
        !(t->epoch = calloc((size_t)n, sizeof *t->epoch)) ||
        !(t->cfg = calloc(req->n_configs ? req->n_configs : 1, sizeof *t->cfg)))
        goto oom;
    t->nparts = (size_t)n;
    /* Kafka's convention: "__consumer_offsets" and the like are internal */
    t->internal = req->name[0] == '_' && req->name[1] == '_';
    for (size_t i = 0; i < req->n_configs; i++) {
        t->cfg[i].name = strdup(req->configs[i]->name);
        t->cfg[i].value = strdup(req->configs[i]->value);
        t->ncfg++;
        if (!t->cfg[i].name || !t->cfg[i].value)
            goto oom;
    }
    /* a fresh random id, never all-zero (Kafka's "no id") and never reused */
    do {
        static const uint8_t zero[16];
        if (random_bytes(t->id, 16) < 0)
            goto oom;
        if (!memcmp(t->id, zero, 16))
            continue;
    } while (find_topic_id(c, t->id, 16) >= 0);
    if (place(c, t, 0) < 0) {
        st = EDDY__STATUS__UNAVAILABLE;
        snprintf(msg, sizeof msg, "no alive broker to place partitions on");
        goto out;
    }
    if (req->validate_only)
        goto out;
    ctl_topic **nt = realloc(c->topics, (c->ntopics + 1) * sizeof *nt);
    if (!nt)
        goto oom;
    c->topics = nt;
    c->topics[c->ntopics++] = t;
    c->version++;
    int r = persist(c);
    if (r < 0) {
        c->ntopics--;
        c->version--;
        rebuild(c);
        eddy_log_err(r, "controller", "storing the catalog for new topic %s", req->name);
        st = EDDY__STATUS__STORAGE_ERROR;
        snprintf(msg, sizeof msg, "catalog write failed");
        goto out;
    }
    LOG_INFO("controller", "created topic %s with %d partitions (map version %" PRIu64 ")",
             t->name, n, c->version);
    reply_topic(c, call, st, NULL, t);
    eddy__create_topic_request__free_unpacked(req, NULL);
    notify(c);
    return;
oom:
    st = EDDY__STATUS__STORAGE_ERROR;
    snprintf(msg, sizeof msg, "out of memory");
out:
    reply_topic(c, call, st, st == EDDY__STATUS__OK ? NULL : msg,
                st == EDDY__STATUS__OK ? t : NULL);
    topic_free(t);
    eddy__create_topic_request__free_unpacked(req, NULL);
}

static void handle_delete_topic(br_controller *c, rpc_call *call) {
    Eddy__DeleteTopicRequest *req = (Eddy__DeleteTopicRequest *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__delete_topic_request__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    ssize_t i = req->topic_id.len ? find_topic_id(c, req->topic_id.data, req->topic_id.len)
                                  : find_topic_name(c, req->name);
    if (i < 0) {
        reply_topic(c, call, EDDY__STATUS__UNKNOWN_PARTITION, "no such topic", NULL);
        eddy__delete_topic_request__free_unpacked(req, NULL);
        return;
    }
    ctl_topic *t = c->topics[i];
    memmove(&c->topics[i], &c->topics[i + 1], (c->ntopics - (size_t)i - 1) * sizeof *c->topics);
    c->ntopics--;
    c->version++;
    int r = persist(c);
    if (r < 0) {
        memmove(&c->topics[i + 1], &c->topics[i], (c->ntopics - (size_t)i) * sizeof *c->topics);
        c->topics[i] = t;
        c->ntopics++;
        c->version--;
        rebuild(c);
        eddy_log_err(r, "controller", "storing the catalog after deleting topic %s", t->name);
        reply_topic(c, call, EDDY__STATUS__STORAGE_ERROR, "catalog write failed", NULL);
        eddy__delete_topic_request__free_unpacked(req, NULL);
        return;
    }
    LOG_INFO("controller", "deleted topic %s (map version %" PRIu64 ")", t->name, c->version);
    reply_topic(c, call, EDDY__STATUS__OK, NULL, t);
    topic_free(t);
    eddy__delete_topic_request__free_unpacked(req, NULL);
    notify(c);
}

static void handle_create_partitions(br_controller *c, rpc_call *call) {
    Eddy__CreatePartitionsRequest *req = (Eddy__CreatePartitionsRequest *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__create_partitions_request__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    char msg[160];
    ssize_t i = find_topic_name(c, req->name);
    ctl_topic *t = i >= 0 ? c->topics[i] : NULL;
    if (!t) {
        reply_topic(c, call, EDDY__STATUS__UNKNOWN_PARTITION, "no such topic", NULL);
        goto done;
    }
    if (req->count <= (int32_t)t->nparts || req->count > BR_MAX_PARTITIONS) {
        snprintf(msg, sizeof msg, "topic %s has %zu partitions; new count %d must be larger and "
                 "at most %d", t->name, t->nparts, req->count, BR_MAX_PARTITIONS);
        reply_topic(c, call, EDDY__STATUS__INVALID_PARTITIONS, msg, t);
        goto done;
    }
    if (req->validate_only) {
        reply_topic(c, call, EDDY__STATUS__OK, NULL, t);
        goto done;
    }
    size_t old = t->nparts, n = (size_t)req->count;
    int32_t *owner = realloc(t->owner, n * sizeof *owner);
    if (owner)
        t->owner = owner;
    uint32_t *epoch = owner ? realloc(t->epoch, n * sizeof *epoch) : NULL;
    if (epoch)
        t->epoch = epoch;
    if (!owner || !epoch) {
        reply_topic(c, call, EDDY__STATUS__STORAGE_ERROR, "out of memory", NULL);
        goto done;
    }
    t->nparts = n;
    if (place(c, t, old) < 0) {
        t->nparts = old;
        reply_topic(c, call, EDDY__STATUS__UNAVAILABLE, "no alive broker", NULL);
        goto done;
    }
    c->version++;
    int r = persist(c);
    if (r < 0) {
        t->nparts = old;
        c->version--;
        rebuild(c);
        eddy_log_err(r, "controller", "storing the catalog for new partitions of %s", t->name);
        reply_topic(c, call, EDDY__STATUS__STORAGE_ERROR, "catalog write failed", NULL);
        goto done;
    }
    LOG_INFO("controller", "topic %s: %zu -> %zu partitions (map version %" PRIu64 ")", t->name,
             old, n, c->version);
    reply_topic(c, call, EDDY__STATUS__OK, NULL, t);
    eddy__create_partitions_request__free_unpacked(req, NULL);
    notify(c);
    return;
done:
    eddy__create_partitions_request__free_unpacked(req, NULL);
}

static void handle_register(br_controller *c, rpc_call *call) {
    Eddy__RegisterBroker *req = (Eddy__RegisterBroker *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__register_broker__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    Eddy__RegisterResult res = EDDY__REGISTER_RESULT__INIT;
    int32_t id = -1;
    int r = br_controller_register(c, req->id, req->address, req->stats_address,
                                   req->local_address, &id);
    if (r == -EINVAL)
        res.status = EDDY__STATUS__INVALID_REQUEST;
    else if (r < 0)
        res.status = EDDY__STATUS__STORAGE_ERROR;
    if (r < 0 && r != -EINVAL)
        eddy_log_err(r, "controller", "registering broker %d at %s", req->id, req->address);
    res.id = id;
    res.map_version = c->version;
    rpc_call_reply(call, EDDY__STATUS__OK, &res.base, NULL);
    eddy__register_broker__free_unpacked(req, NULL);
}

/* ---- partition moves (broker/mover.h) ------------------------------------------ */

/** Moves run at most this many at a time. */
#define MAX_MOVES 4
/** A target this close behind the owner gets the owner fenced. */
#define FENCE_LAG 1000
/** A fence not followed by the flip within this long is lifted (the target
 *  is stuck): the owner takes writes again and the move is dropped. */
#define FENCE_TIMEOUT_MS 30000

static void move_remove(br_controller *c, size_t k) {
    memmove(&c->moves[k], &c->moves[k + 1], (c->nmoves - k - 1) * sizeof *c->moves);
    c->nmoves--;
}

static bool broker_alive(br_controller *c, int32_t id) {
    ctl_broker *b = find_broker(c, id);
    return b && (b->alive || id == c->self_id);
}

/* Plan new moves when asked to balance. Returns true when moves started. */
static bool plan_moves(br_controller *c) {
    if (c->nmoves >= MAX_MOVES)
        return false;
    int32_t *alive = NULL;
    br_rb_part *parts = NULL;
    ssize_t na = alive_ids(c, &alive), np = na < 0 ? -1 : flatten(c, NULL, 0, &parts);
    size_t idx[MAX_MOVES];
    int32_t tgt[MAX_MOVES];
    int planned = np < 0 ? -ENOMEM
                         : br_rebalance_plan(parts, (size_t)np, alive, (size_t)na,
                                             MAX_MOVES - c->nmoves, idx, tgt);
    if (planned == 0 && c->nmoves == 0 && c->rebalance_requested) {
        c->rebalance_requested = false;
        LOG_INFO("controller", "rebalance: partition counts are balanced");
    }
    ctl_move *nm = planned > 0 ? realloc(c->moves, (c->nmoves + (size_t)planned) * sizeof *nm)
                               : NULL;
    if (nm) {
        c->moves = nm;
        for (int i = 0; i < planned; i++) {
            /* map the flat index back to topic / partition */
            size_t k = idx[i], ti = 0;
            while (k >= c->topics[ti]->nparts)
                k -= c->topics[ti++]->nparts;
            ctl_move *mv = &c->moves[c->nmoves++];
            memset(mv, 0, sizeof *mv);
            memcpy(mv->topic_id, c->topics[ti]->id, 16);
            mv->partition = (int32_t)k;
            mv->target = tgt[i];
            LOG_INFO("controller", "moving %s/%zu from broker %d to broker %d",
                     c->topics[ti]->name, k, c->topics[ti]->owner[k], tgt[i]);
        }
    }
    free(alive);
    free(parts);
    return nm != NULL;
}

/* Cancel moves that cannot finish; start new ones. True when the map
 * changed. */
static bool moves_tick(br_controller *c, int64_t now_ms) {
    bool changed = false;
    for (size_t k = c->nmoves; k-- > 0;) {
        ctl_move *mv = &c->moves[k];
        ssize_t ti = find_topic_id(c, mv->topic_id, 16);
        const char *why = NULL;
        if (ti < 0 || (size_t)mv->partition >= c->topics[ti]->nparts)
            why = "topic deleted";
        else if (!broker_alive(c, c->topics[ti]->owner[mv->partition]))
            why = "owner is dead";
        else if (!broker_alive(c, mv->target))
            why = "target is dead";
        else if (mv->fenced && now_ms - mv->fenced_ms > FENCE_TIMEOUT_MS)
            why = "target did not finish after the fence";
        if (!why)
            continue;
        LOG_WARN("controller", "move of partition %d to broker %d cancelled: %s",
                 mv->partition, mv->target, why);
        move_remove(c, k);
        changed = true;
    }
    if (c->auto_rebalance || c->rebalance_requested)
        changed |= plan_moves(c);
    return changed;
}

void br_controller_set_auto_rebalance(br_controller *c, bool on) { c->auto_rebalance = on; }

int br_controller_move_status(br_controller *c, const Eddy__MoveStatus *st,
                              uint64_t *map_version) {
    ctl_move *mv = NULL;
    size_t k = 0;
    for (; k < c->nmoves; k++) {
        if (c->moves[k].partition == st->partition && c->moves[k].target == st->target &&
            st->topic_id.len == 16 && !memcmp(c->moves[k].topic_id, st->topic_id.data, 16)) {
            mv = &c->moves[k];
            break;
        }
    }
    ssize_t ti = mv ? find_topic_id(c, mv->topic_id, 16) : -1;
    if (ti < 0 || (size_t)mv->partition >= c->topics[ti]->nparts ||
        c->topics[ti]->epoch[mv->partition] != st->epoch)
        return -ENOENT;
    ctl_topic *t = c->topics[ti];
    int32_t p = mv->partition;
    *map_version = c->version;
    if (!mv->fenced && (st->lag <= FENCE_LAG || st->done)) {
        /* in memory only if the write fails: a fence is undone by a restart
         * (the owner takes writes again), which is safe */
        mv->fenced = true;
        mv->fenced_ms = mono_ms();
        c->version++;
        int r = persist(c);
        if (r < 0)
            eddy_log_err(r, "controller", "storing the fence of %s/%d", t->name, p);
        *map_version = c->version;
        notify(c);
        return 0;
    }
    if (!mv->fenced || !st->done)
        return 0;
    /* the flip: durable before anyone may act on it (the old owner drops
     * its copy once it sees it) */
    ctl_move saved = *mv;
    int32_t old_owner = t->owner[p];
    t->owner[p] = mv->target;
    t->epoch[p]++;
    move_remove(c, k);
    c->version++;
    int r = persist(c);
    if (r < 0) {
        t->owner[p] = old_owner;
        t->epoch[p]--;
        c->version--;
        ctl_move *nm = realloc(c->moves, (c->nmoves + 1) * sizeof *nm);
        if (nm) {
            c->moves = nm;
            c->moves[c->nmoves++] = saved;
        }
        rebuild(c);
        return r;
    }
    LOG_INFO("controller", "partition %s/%d moved from broker %d to broker %d (epoch %u, %" PRId64
             " offsets, map version %" PRIu64 ")", t->name, p, old_owner, t->owner[p],
             t->epoch[p], st->end_offset, c->version);
    *map_version = c->version;
    notify(c);
    return 0;
}

static void handle_move_status(br_controller *c, rpc_call *call) {
    Eddy__MoveStatus *req = (Eddy__MoveStatus *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__move_status__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    Eddy__MoveStatusResult res = EDDY__MOVE_STATUS_RESULT__INIT;
    int r = br_controller_move_status(c, req, &res.map_version);
    res.status = r == 0 ? EDDY__STATUS__OK
                 : r == -ENOENT ? EDDY__STATUS__INVALID_REQUEST : EDDY__STATUS__STORAGE_ERROR;
    if (r < 0 && r != -ENOENT)
        eddy_log_err(r, "controller", "storing a partition move");
    res.map_version = c->version;
    rpc_call_reply(call, EDDY__STATUS__OK, &res.base, NULL);
    eddy__move_status__free_unpacked(req, NULL);
}

static void handle_rebalance(br_controller *c, rpc_call *call) {
    Eddy__RebalanceResult res = EDDY__REBALANCE_RESULT__INIT;
    c->rebalance_requested = true;
    LOG_INFO("controller", "rebalance requested");
    if (plan_moves(c)) {
        c->version++;
        int r = persist(c);
        if (r < 0)
            eddy_log_err(r, "controller", "storing planned moves");
        notify(c);
    }
    res.status = EDDY__STATUS__OK;
    res.moves = (int32_t)c->nmoves;
    res.map_version = c->version;
    rpc_call_reply(call, EDDY__STATUS__OK, &res.base, NULL);
}

void br_controller_handle(br_controller *c, rpc_call *call) {
    switch (rpc_call_frame(call)->hdr->method) {
    case EDDY__METHOD__GET_MAP:
        rpc_call_reply(call, EDDY__STATUS__OK, &c->msg->base, NULL);
        return;
    case EDDY__METHOD__REGISTER_BROKER:
        handle_register(c, call);
        return;
    case EDDY__METHOD__CREATE_TOPIC:
        handle_create_topic(c, call);
        return;
    case EDDY__METHOD__DELETE_TOPIC:
        handle_delete_topic(c, call);
        return;
    case EDDY__METHOD__CREATE_PARTITIONS:
        handle_create_partitions(c, call);
        return;
    case EDDY__METHOD__ALLOC_PRODUCER_ID:
        br_producer_ids_handle(c->store, &c->pids, call);
        return;
    case EDDY__METHOD__MOVE_STATUS:
        handle_move_status(c, call);
        return;
    case EDDY__METHOD__REBALANCE:
        handle_rebalance(c, call);
        return;
    default:
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
}
