/* offsets.c — committed offsets in LMDB, and the OffsetCommit, OffsetFetch
 * and OffsetDelete handlers of the group coordinator. Writes go through the
 * committer's writer thread; the Kafka answer leaves once they are durable. */
#include "offsets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "byteorder.h"
#include "kafka_offsetcommit.h"
#include "kafka_offsetdelete.h"
#include "kafka_offsetfetch.h"
#include "kafka_proto.h"

#define KEY_MAX (2 + 65535 + 2 + 65535 + 4)

static MDB_dbi dbi(br_store *s) { return br_store_dbi(s, BR_OFFSETS_DB); }

int br_offsets_open(br_store *s) {
    MDB_dbi d;
    return br_store_open_db(s, BR_OFFSETS_DB, &d);
}


/* Key of (group, topic, partition) into @p buf; topic NULL: the group's
 * prefix only. Returns the length, or 0 when a name is too long. */
static size_t make_key(uint8_t *buf, const char *group, size_t glen, const char *topic,
                       size_t tlen, int32_t partition) {
    if (glen > 65535 || tlen > 65535)
        return 0;
    size_t n = 0;
    be_put16(buf, (uint16_t)glen);
    memcpy(buf + 2, group, glen);
    n = 2 + glen;
    if (!topic)
        return n;
    be_put16(buf + n, (uint16_t)tlen);
    memcpy(buf + n + 2, topic, tlen);
    n += 2 + tlen;
    be_put32(buf + n, (uint32_t)partition);
    return n + 4;
}

/* Parse a stored entry; the key's group part is already known to match. */
static int parse(const MDB_val *k, const MDB_val *v, size_t glen, br_offset *o) {
    const uint8_t *kp = k->mv_data;
    size_t kl = k->mv_size;
    if (kl < 2 + glen + 2 + 4)
        return -EBADMSG;
    size_t tlen = be_get16(kp + 2 + glen);
    if (kl != 2 + glen + 2 + tlen + 4)
        return -EBADMSG;
    o->topic = (const char *)kp + 2 + glen + 2;
    o->topic_len = tlen;
    o->partition = (int32_t)be_get32(kp + kl - 4);
    const uint8_t *vp = v->mv_data;
    if (v->mv_size < 22)
        return -EBADMSG;
    o->offset = (int64_t)be_get64(vp);
    o->leader_epoch = (int32_t)be_get32(vp + 8);
    o->commit_ms = (int64_t)be_get64(vp + 12);
    uint16_t ml = be_get16(vp + 20);
    if (ml == 0xFFFF) {
        o->metadata = NULL;
        o->metadata_len = -1;
    } else {
        if (v->mv_size < 22u + ml)
            return -EBADMSG;
        o->metadata = (const char *)vp + 22;
        o->metadata_len = ml;
    }
    return 0;
}

int br_offsets_put(br_store *s, MDB_txn *txn, const char *group, size_t glen, const br_offset *o) {
    if (o->metadata_len > BR_OFFSETS_MAX_METADATA)
        return -EMSGSIZE;
    uint8_t *key = malloc(2 + glen + 2 + o->topic_len + 4);
    size_t ml = o->metadata_len > 0 ? (size_t)o->metadata_len : 0;
    uint8_t *val = malloc(22 + ml);
    size_t kl = key ? make_key(key, group, glen, o->topic, o->topic_len, o->partition) : 0;
    if (!key || !val || !kl) {
        free(key);
        free(val);
        return key && val ? -ENAMETOOLONG : -ENOMEM;
    }
    be_put64(val, (uint64_t)o->offset);
    be_put32(val + 8, (uint32_t)o->leader_epoch);
    be_put64(val + 12, (uint64_t)o->commit_ms);
    be_put16(val + 20, o->metadata_len < 0 ? 0xFFFF : (uint16_t)ml);
    if (ml)
        memcpy(val + 22, o->metadata, ml);
    MDB_val k = {kl, key}, v = {22 + ml, val};
    int r = br_store_error(mdb_put(txn, dbi(s), &k, &v, 0));
    free(key);
    free(val);
    return r;
}

int br_offsets_get(br_store *s, MDB_txn *txn, const char *group, size_t glen, const char *topic,
                   size_t tlen, int32_t partition, br_offset *out) {
    uint8_t *key = malloc(2 + glen + 2 + tlen + 4);
    size_t kl = key ? make_key(key, group, glen, topic, tlen, partition) : 0;
    if (!kl) {
        free(key);
        return key ? -ENOENT : -ENOMEM;
    }
    /* a cursor gives the key in LMDB's memory: the topic view points there */
    MDB_cursor *c;
    int r = br_store_error(mdb_cursor_open(txn, dbi(s), &c));
    if (r == 0) {
        MDB_val k = {kl, key}, v;
        r = br_store_error(mdb_cursor_get(c, &k, &v, MDB_SET_KEY));
        if (r == 0)
            r = parse(&k, &v, glen, out);
        mdb_cursor_close(c);
    }
    free(key);
    return r;
}

int br_offsets_foreach(br_store *s, MDB_txn *txn, const char *group, size_t glen,
                       int (*cb)(const br_offset *o, void *arg), void *arg) {
    uint8_t *prefix = malloc(2 + glen);
    size_t pl = prefix ? make_key(prefix, group, glen, NULL, 0, 0) : 0;
    if (!pl) {
        free(prefix);
        return prefix ? 0 : -ENOMEM;
    }
    MDB_cursor *c;
    int r = br_store_error(mdb_cursor_open(txn, dbi(s), &c));
    if (r < 0) {
        free(prefix);
        return r;
    }
    MDB_val k = {pl, prefix}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size >= pl && memcmp(k.mv_data, prefix, pl) == 0) {
        br_offset o;
        if (parse(&k, &v, glen, &o) == 0 && (r = cb(&o, arg)) < 0)
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    if (r >= 0 && rc != 0 && rc != MDB_NOTFOUND)
        r = br_store_error(rc);
    mdb_cursor_close(c);
    free(prefix);
    return r < 0 ? r : 0;
}

int br_offsets_del(br_store *s, MDB_txn *txn, const char *group, size_t glen, const char *topic,
                   size_t tlen, int32_t partition) {
    uint8_t *key = malloc(2 + glen + 2 + tlen + 4);
    size_t kl = key ? make_key(key, group, glen, topic, tlen, partition) : 0;
    if (!kl) {
        free(key);
        return key ? 0 : -ENOMEM;
    }
    MDB_val k = {kl, key};
    int r = br_store_error(mdb_del(txn, dbi(s), &k, NULL));
    free(key);
    return r == -ENOENT ? 0 : r;
}

int br_offsets_del_group(br_store *s, MDB_txn *txn, const char *group, size_t glen) {
    uint8_t *prefix = malloc(2 + glen);
    size_t pl = prefix ? make_key(prefix, group, glen, NULL, 0, 0) : 0;
    if (!pl) {
        free(prefix);
        return prefix ? 0 : -ENOMEM;
    }
    MDB_cursor *c;
    int r = br_store_error(mdb_cursor_open(txn, dbi(s), &c));
    if (r < 0) {
        free(prefix);
        return r;
    }
    MDB_val k = {pl, prefix}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size >= pl && memcmp(k.mv_data, prefix, pl) == 0) {
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        /* after a delete the cursor already sits on the next entry */
        if (mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT) != 0)
            break;
    }
    r = (rc == 0 || rc == MDB_NOTFOUND) ? 0 : br_store_error(rc);
    mdb_cursor_close(c);
    free(prefix);
    return r;
}

static int exists_cb(const br_offset *o, void *arg) {
    (void)o;
    *(bool *)arg = true;
    return -1; /* stop */
}

bool br_offsets_group_exists(br_store *s, MDB_txn *txn, const char *group, size_t glen) {
    bool found = false;
    br_offsets_foreach(s, txn, group, glen, exists_cb, &found);
    return found;
}

/* ---- OffsetCommit --------------------------------------------------------- */

typedef struct commit_ctx {
    br_groups *g;
    br_group_req r;
    arena a;
    kafka_offsetcommit_req in;
    kafka_offsetcommit_resp out;
    int64_t now_ms;
} commit_ctx;

static int commit_fn(MDB_txn *txn, void *arg) {
    commit_ctx *c = arg;
    br_store *s = br_groups_store(c->g);
    for (int t = 0; t < c->in.n_topics; t++) {
        kafka_offsetcommit_req_topic *tp = &c->in.topics[t];
        for (int p = 0; p < tp->n_partitions; p++) {
            if (c->out.topics[t].partitions[p].error_code)
                continue;
            kafka_offsetcommit_req_partition *pp = &tp->partitions[p];
            br_offset o = {
                .topic = tp->name.ptr,
                .topic_len = (size_t)tp->name.len,
                .partition = pp->partition_index,
                .offset = pp->committed_offset,
                .leader_epoch = pp->committed_leader_epoch,
                .commit_ms = c->now_ms,
                .metadata = pp->committed_metadata.ptr,
                .metadata_len = pp->committed_metadata.len,
            };
            int r = br_offsets_put(s, txn, c->in.group_id.ptr, (size_t)c->in.group_id.len, &o);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static void commit_done(int err, void *arg) {
    commit_ctx *c = arg;
    if (err)
        for (int t = 0; t < c->out.n_topics; t++)
            for (int p = 0; p < c->out.topics[t].n_partitions; p++)
                if (!c->out.topics[t].partitions[p].error_code)
                    c->out.topics[t].partitions[p].error_code = KAFKA_ERR_KAFKA_STORAGE_ERROR;
    kafka_writer w;
    kw_init(&w);
    kafka_offsetcommit_resp_encode(&w, c->r.api_version, &c->out);
    br_groups_reply_writer(&c->r, &w);
    arena_free(&c->a);
    free(c);
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void br_offsets_commit(br_groups *g, const br_group_req *r) {
    commit_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    c->g = g;
    c->r = *r;
    c->now_ms = wall_ms();
    arena_init(&c->a);
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    if (kafka_offsetcommit_req_decode(&rd, r->api_version, &c->a, &c->in) < 0) {
        arena_free(&c->a);
        free(c);
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    kafka_offsetcommit_req *in = &c->in;
    c->out.n_topics = in->n_topics;
    c->out.topics = arena_calloc(&c->a, (size_t)(in->n_topics > 0 ? in->n_topics : 1),
                                 sizeof *c->out.topics);
    bool oom = !c->out.topics;
    for (int t = 0; !oom && t < in->n_topics; t++) {
        c->out.topics[t].name = in->topics[t].name;
        c->out.topics[t].n_partitions = in->topics[t].n_partitions;
        c->out.topics[t].partitions = arena_calloc(
            &c->a, (size_t)(in->topics[t].n_partitions > 0 ? in->topics[t].n_partitions : 1),
            sizeof *c->out.topics[t].partitions);
        oom = !c->out.topics[t].partitions;
    }
    if (oom) {
        arena_free(&c->a);
        free(c);
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    int16_t gerr = 0;
    if (in->group_id.len <= 0)
        gerr = KAFKA_ERR_INVALID_GROUP_ID;
    else
        gerr = br_groups_commit_check(g, in->group_id.ptr, (size_t)in->group_id.len,
                                      in->generation_id_or_member_epoch, in->member_id.ptr,
                                      in->member_id.len > 0 ? (size_t)in->member_id.len : 0,
                                      in->group_instance_id.ptr, in->group_instance_id.len);
    int n_ok = 0;
    for (int t = 0; t < in->n_topics; t++)
        for (int p = 0; p < in->topics[t].n_partitions; p++) {
            kafka_offsetcommit_resp_partition *o = &c->out.topics[t].partitions[p];
            kafka_offsetcommit_req_partition *q = &in->topics[t].partitions[p];
            o->partition_index = q->partition_index;
            if (gerr)
                o->error_code = gerr;
            else if (q->committed_metadata.len > BR_OFFSETS_MAX_METADATA)
                o->error_code = KAFKA_ERR_OFFSET_METADATA_TOO_LARGE;
            else if (in->topics[t].name.len <= 0)
                o->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else
                n_ok++;
        }
    if (n_ok == 0 || br_commit_submit_fn(br_groups_committer(g), commit_fn, commit_done, c) < 0) {
        if (n_ok)
            commit_done(-EIO, c);
        else
            commit_done(0, c);
    }
}

/* ---- OffsetFetch ------------------------------------------------------------ */

/* Collects all offsets of a group (null topics). */
typedef struct all_ctx {
    arena *a;
    kafka_offsetfetch_resp_topic *topics;
    int32_t n, cap;
} all_ctx;

static int all_cb(const br_offset *o, void *arg) {
    all_ctx *c = arg;
    kafka_offsetfetch_resp_topic *t = c->n ? &c->topics[c->n - 1] : NULL;
    if (!t || (size_t)t->name.len != o->topic_len || memcmp(t->name.ptr, o->topic, o->topic_len)) {
        if (c->n == c->cap) {
            int32_t nc = c->cap ? c->cap * 2 : 8;
            kafka_offsetfetch_resp_topic *nt = arena_calloc(c->a, (size_t)nc, sizeof *nt);
            if (!nt)
                return -ENOMEM;
            if (c->n)
                memcpy(nt, c->topics, (size_t)c->n * sizeof *nt);
            c->topics = nt;
            c->cap = nc;
        }
        t = &c->topics[c->n++];
        char *name = arena_strndup(c->a, o->topic, o->topic_len);
        if (!name)
            return -ENOMEM;
        t->name = (kafka_str){name, (int32_t)o->topic_len};
        t->partitions = NULL;
        t->n_partitions = 0;
    }
    /* partitions: grow by copying (groups hold few partitions per topic) */
    kafka_offsetfetch_resp_partition *np =
        arena_calloc(c->a, (size_t)t->n_partitions + 1, sizeof *np);
    if (!np)
        return -ENOMEM;
    if (t->n_partitions)
        memcpy(np, t->partitions, (size_t)t->n_partitions * sizeof *np);
    kafka_offsetfetch_resp_partition *p = &np[t->n_partitions];
    p->partition_index = o->partition;
    p->committed_offset = o->offset;
    p->committed_leader_epoch = o->leader_epoch;
    char *md = o->metadata_len >= 0 ? arena_strndup(c->a, o->metadata ? o->metadata : "",
                                                    (size_t)o->metadata_len)
                                    : NULL;
    p->metadata = o->metadata_len >= 0 ? (kafka_str){md ? md : "", md ? o->metadata_len : 0}
                                       : (kafka_str){"", 0};
    t->partitions = np;
    t->n_partitions++;
    return 0;
}

/* Fill the answer of one group; returns the group-level error. */
static int16_t fetch_group(br_groups *g, MDB_txn *txn, arena *a, kafka_str gid,
                           kafka_offsetfetch_req_topic *topics, int32_t n_topics,
                           kafka_offsetfetch_resp_topic **out, int32_t *n_out) {
    *out = NULL;
    *n_out = 0;
    if (gid.len < 0)
        return KAFKA_ERR_INVALID_GROUP_ID;
    if (br_groups_owns(g, gid.ptr, (size_t)gid.len) != EDDY__STATUS__OK)
        return KAFKA_ERR_NOT_COORDINATOR;
    br_store *s = br_groups_store(g);
    if (n_topics < 0) {
        all_ctx c = {.a = a};
        if (br_offsets_foreach(s, txn, gid.ptr, (size_t)gid.len, all_cb, &c) < 0)
            return KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        *out = c.topics;
        *n_out = c.n;
        return 0;
    }
    kafka_offsetfetch_resp_topic *ts = arena_calloc(a, (size_t)(n_topics ? n_topics : 1), sizeof *ts);
    if (!ts)
        return KAFKA_ERR_UNKNOWN_SERVER_ERROR;
    for (int t = 0; t < n_topics; t++) {
        kafka_offsetfetch_req_topic *q = &topics[t];
        ts[t].name = q->name;
        ts[t].n_partitions = q->n_partition_indexes;
        ts[t].partitions = arena_calloc(a, (size_t)(q->n_partition_indexes > 0 ? q->n_partition_indexes : 1),
                                        sizeof *ts[t].partitions);
        if (!ts[t].partitions)
            return KAFKA_ERR_UNKNOWN_SERVER_ERROR;
        for (int p = 0; p < q->n_partition_indexes; p++) {
            kafka_offsetfetch_resp_partition *o = &ts[t].partitions[p];
            o->partition_index = q->partition_indexes[p];
            o->committed_offset = -1;
            o->committed_leader_epoch = -1;
            o->metadata = (kafka_str){"", 0};
            br_offset v;
            if (q->name.len > 0 &&
                br_offsets_get(s, txn, gid.ptr, (size_t)gid.len, q->name.ptr, (size_t)q->name.len,
                               q->partition_indexes[p], &v) == 0) {
                o->committed_offset = v.offset;
                o->committed_leader_epoch = v.leader_epoch;
                if (v.metadata_len > 0) {
                    char *md = arena_strndup(a, v.metadata, (size_t)v.metadata_len);
                    if (md)
                        o->metadata = (kafka_str){md, v.metadata_len};
                }
            }
        }
    }
    *out = ts;
    *n_out = n_topics;
    return 0;
}

void br_offsets_fetch(br_groups *g, const br_group_req *r) {
    arena a;
    arena_init(&a);
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    kafka_offsetfetch_req in;
    if (kafka_offsetfetch_req_decode(&rd, r->api_version, &a, &in) < 0) {
        arena_free(&a);
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    MDB_txn *txn;
    if (br_store_read_begin(br_groups_store(g), &txn) < 0) {
        arena_free(&a);
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    kafka_offsetfetch_resp out = {0};
    if (r->api_version >= 8) {
        out.groups = arena_calloc(&a, (size_t)(in.n_groups > 0 ? in.n_groups : 1), sizeof *out.groups);
        out.n_groups = out.groups ? in.n_groups : 0;
        for (int i = 0; i < out.n_groups; i++) {
            kafka_offsetfetch_req_group *q = &in.groups[i];
            out.groups[i].group_id = q->group_id;
            out.groups[i].error_code = fetch_group(g, txn, &a, q->group_id, q->topics, q->n_topics,
                                                   &out.groups[i].topics, &out.groups[i].n_topics);
        }
    } else {
        /* v0-1 write an empty array for "all": the same as asking for none */
        int16_t e = fetch_group(g, txn, &a, in.group_id, in.topics, in.n_topics, &out.topics,
                                &out.n_topics);
        out.error_code = e;
        if (e && r->api_version < 2) {
            /* v0-1 have no group-level error: put it on every partition */
            out.topics = arena_calloc(&a, (size_t)(in.n_topics > 0 ? in.n_topics : 1), sizeof *out.topics);
            out.n_topics = out.topics && in.n_topics > 0 ? in.n_topics : 0;
            for (int t = 0; t < out.n_topics; t++) {
                out.topics[t].name = in.topics[t].name;
                out.topics[t].partitions = arena_calloc(
                    &a, (size_t)(in.topics[t].n_partition_indexes > 0 ? in.topics[t].n_partition_indexes : 1),
                    sizeof *out.topics[t].partitions);
                out.topics[t].n_partitions = out.topics[t].partitions ? in.topics[t].n_partition_indexes : 0;
                for (int p = 0; p < out.topics[t].n_partitions; p++) {
                    out.topics[t].partitions[p] = (kafka_offsetfetch_resp_partition){
                        .partition_index = in.topics[t].partition_indexes[p],
                        .committed_offset = -1,
                        .committed_leader_epoch = -1,
                        .metadata = {"", 0},
                        .error_code = e};
                }
            }
        }
    }
    kafka_writer w;
    kw_init(&w);
    kafka_offsetfetch_resp_encode(&w, r->api_version, &out);
    br_store_read_end(br_groups_store(g), txn);
    br_groups_reply_writer(r, &w);
    arena_free(&a);
}

/* ---- OffsetDelete ------------------------------------------------------------ */

typedef struct odel_ctx {
    br_groups *g;
    br_group_req r;
    arena a;
    kafka_offsetdelete_req in;
    kafka_offsetdelete_resp out;
} odel_ctx;

static int odel_fn(MDB_txn *txn, void *arg) {
    odel_ctx *c = arg;
    for (int t = 0; t < c->in.n_topics; t++)
        for (int p = 0; p < c->in.topics[t].n_partitions; p++) {
            if (c->out.topics[t].partitions[p].error_code)
                continue;
            int e = br_offsets_del(br_groups_store(c->g), txn, c->in.group_id.ptr,
                                   (size_t)c->in.group_id.len, c->in.topics[t].name.ptr,
                                   (size_t)c->in.topics[t].name.len, c->in.topics[t].partitions[p]);
            if (e < 0)
                return e;
        }
    return 0;
}

static void odel_done(int err, void *arg) {
    odel_ctx *c = arg;
    if (err)
        c->out.error_code = KAFKA_ERR_UNKNOWN_SERVER_ERROR;
    kafka_writer w;
    kw_init(&w);
    kafka_offsetdelete_resp_encode(&w, c->r.api_version, &c->out);
    br_groups_reply_writer(&c->r, &w);
    arena_free(&c->a);
    free(c);
}

void br_offsets_delete(br_groups *g, const br_group_req *r) {
    odel_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    c->g = g;
    c->r = *r;
    arena_init(&c->a);
    kafka_reader rd;
    kr_init(&rd, r->body, r->len);
    if (kafka_offsetdelete_req_decode(&rd, r->api_version, &c->a, &c->in) < 0) {
        arena_free(&c->a);
        free(c);
        r->reply(r->ctx, EDDY__STATUS__INVALID_REQUEST, NULL);
        return;
    }
    kafka_offsetdelete_req *in = &c->in;
    c->out.n_topics = in->n_topics;
    c->out.topics = arena_calloc(&c->a, (size_t)(in->n_topics > 0 ? in->n_topics : 1), sizeof *c->out.topics);
    bool oom = !c->out.topics;
    for (int t = 0; !oom && t < in->n_topics; t++) {
        c->out.topics[t].name = in->topics[t].name;
        c->out.topics[t].n_partitions = in->topics[t].n_partitions;
        c->out.topics[t].partitions = arena_calloc(
            &c->a, (size_t)(in->topics[t].n_partitions > 0 ? in->topics[t].n_partitions : 1),
            sizeof *c->out.topics[t].partitions);
        oom = !c->out.topics[t].partitions;
    }
    if (oom) {
        arena_free(&c->a);
        free(c);
        r->reply(r->ctx, EDDY__STATUS__STORAGE_ERROR, NULL);
        return;
    }
    const char *gid = in->group_id.ptr;
    size_t glen = in->group_id.len > 0 ? (size_t)in->group_id.len : 0;
    bool exists = br_groups_has_members(g, gid, glen);
    if (!exists && glen) {
        MDB_txn *txn;
        if (br_store_read_begin(br_groups_store(g), &txn) == 0) {
            exists = br_offsets_group_exists(br_groups_store(g), txn, gid, glen);
            br_store_read_end(br_groups_store(g), txn);
        }
    }
    if (!glen)
        c->out.error_code = KAFKA_ERR_INVALID_GROUP_ID;
    else if (!exists)
        c->out.error_code = KAFKA_ERR_GROUP_ID_NOT_FOUND;
    int n_ok = 0;
    for (int t = 0; t < in->n_topics; t++) {
        bool subscribed = !c->out.error_code &&
                          br_groups_subscribed(g, gid, glen, in->topics[t].name.ptr,
                                               in->topics[t].name.len > 0 ? (size_t)in->topics[t].name.len : 0);
        for (int p = 0; p < in->topics[t].n_partitions; p++) {
            kafka_offsetdelete_resp_partition *o = &c->out.topics[t].partitions[p];
            o->partition_index = in->topics[t].partitions[p];
            if (c->out.error_code)
                continue;
            if (subscribed)
                o->error_code = KAFKA_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
            else
                n_ok++;
        }
    }
    if (c->out.error_code) {
        c->out.n_topics = 0;
        odel_done(0, c);
        return;
    }
    if (n_ok == 0 || br_commit_submit_fn(br_groups_committer(g), odel_fn, odel_done, c) < 0)
        odel_done(n_ok ? -EIO : 0, c);
}
