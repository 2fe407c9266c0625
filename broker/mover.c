/* mover.c — partition moves, broker side (see mover.h). */
#include "mover.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "byteorder.h"
#include "controller.h"
#include "fetch_wait.h"
#include "group_place.h"
#include "log.h"
#include "offsets.h"
#include "plog_copy.h"
#include "producer_state.h"
#include "rpc_local.h"
#include "server.h"

#define FETCH_MAX_BYTES (4 << 20)
#define RPC_TIMEOUT_MS 10000
#define RETRY_MS 1000
#define POLL_MS 200

/* A partition fenced here for a move: sealed once the writes accepted
 * before the fence are committed. */
typedef struct seal {
    uint8_t tid[16];
    int32_t partition;
    uint32_t epoch;
    bool sealed, live;
    struct seal *next;
} seal;

/* A copy to this broker. */
typedef struct task {
    br_mover *m;
    uint8_t tid[16];
    int32_t partition;
    uint32_t epoch;
    int32_t source;
    rpc_client *cl;
    struct event *timer;
    uint64_t call, rcall;       /* REPLICA_FETCH, MOVE_STATUS in flight */
    bool committing, cancelled, live, in_cb, offsets_done;
    bool local_report;          /* the controller is here: report from the timer */
    Eddy__MoveStatus report;
    int64_t jump;               /* >= 0: local log empty, start at the owner's log start */
    uint64_t need_version;      /* map version holding our last report's effect */
    int64_t last_report_ms;
    struct task *next;
} task;

struct br_mover {
    br_server *s;
    seal *seals;
    task *tasks;
    int drops;                  /* drop jobs in flight */
};

static bool same(const uint8_t *a, int32_t pa, const uint8_t *b, int32_t pb) {
    return pa == pb && !memcmp(a, b, 16);
}

static void task_fetch(task *t);
static void task_report(task *t, bool done, int64_t lag, int64_t end);

/* ---- lifetime ---------------------------------------------------------------- */

int br_mover_new(br_server *s, br_mover **out) {
    br_mover *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->s = s;
    *out = m;
    return 0;
}

/* Free a cancelled task unless a callback or a commit still holds it. */
static void task_release(task *t) {
    if (!t->cancelled || t->committing || t->in_cb)
        return;
    t->call = t->rcall = 0;
    rpc_client_free(t->cl); /* pending calls end with -ECANCELED: they return at once */
    if (t->timer)
        event_free(t->timer);
    free(t);
}

static void task_cancel(task *t) {
    t->cancelled = true;
    task_release(t);
}

void br_mover_free(br_mover *m) {
    if (!m)
        return;
    while (m->tasks) {
        task *t = m->tasks;
        m->tasks = t->next;
        t->committing = false; /* the committer has stopped: nothing will complete */
        t->in_cb = false;
        task_cancel(t);
    }
    while (m->seals) {
        seal *x = m->seals;
        m->seals = x->next;
        free(x);
    }
    free(m);
}

/* ---- source: sealing and REPLICA_FETCH ---------------------------------------- */

typedef struct seal_job {
    br_mover *m;
    uint8_t tid[16];
    int32_t partition;
    uint32_t epoch;
} seal_job;

static int barrier_fn(MDB_txn *txn, void *arg) { return 0; }

static void seal_done(int err, void *arg) {
    seal_job *j = arg;
    /* every append queued before the fence is committed and published */
    for (seal *x = j->m->seals; x; x = x->next)
        if (same(x->tid, x->partition, j->tid, j->partition) && x->epoch == j->epoch)
            x->sealed = err == 0;
    if (err)
        eddy_log_err(err, "mover", "sealing partition %d", j->partition);
    j->m->s->inflight--;
    free(j);
}

static void seal_start(br_mover *m, const uint8_t *tid, int32_t partition, uint32_t epoch) {
    for (seal *x = m->seals; x; x = x->next) {
        if (same(x->tid, x->partition, tid, partition) && x->epoch == epoch) {
            x->live = true;
            return;
        }
    }
    seal *x = calloc(1, sizeof *x);
    seal_job *j = calloc(1, sizeof *j);
    if (!x || !j) {
        free(x);
        free(j);
        return; /* tried again at the next map change */
    }
    memcpy(x->tid, tid, 16);
    x->partition = partition;
    x->epoch = epoch;
    x->live = true;
    j->m = m;
    memcpy(j->tid, tid, 16);
    j->partition = partition;
    j->epoch = epoch;
    if (br_commit_submit_fn(m->s->committer, barrier_fn, seal_done, j) < 0) {
        free(x);
        free(j);
        return;
    }
    m->s->inflight++;
    x->next = m->seals;
    m->seals = x;
    LOG_INFO("mover", "partition %d fenced for its move: sealing", partition);
}

static bool is_sealed(br_mover *m, const uint8_t *tid, int32_t partition, uint32_t epoch) {
    for (seal *x = m->seals; x; x = x->next)
        if (same(x->tid, x->partition, tid, partition) && x->epoch == epoch)
            return x->sealed;
    return false;
}

/* Append the "offsets" entries of the groups placed on @p partition. */
static int add_offsets(br_server *s, int32_t partition, struct evbuffer *out, size_t *n) {
    MDB_txn *txn;
    int r = br_store_read_begin(s->store, &txn);
    if (r < 0)
        return r;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, br_store_dbi(s->store, BR_OFFSETS_DB), &cur);
    *n = 0;
    if (rc == 0) {
        MDB_val k, v;
        while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
            const uint8_t *kp = k.mv_data;
            if (k.mv_size < 2)
                continue;
            size_t glen = (size_t)kp[0] << 8 | kp[1];
            if (2 + glen > k.mv_size ||
                group_place_partition((const char *)kp + 2, glen) != partition)
                continue;
            uint8_t hdr[4] = {(uint8_t)(k.mv_size >> 24), (uint8_t)(k.mv_size >> 16),
                              (uint8_t)(k.mv_size >> 8), (uint8_t)k.mv_size};
            uint8_t vh[4] = {(uint8_t)(v.mv_size >> 24), (uint8_t)(v.mv_size >> 16),
                             (uint8_t)(v.mv_size >> 8), (uint8_t)v.mv_size};
            if (evbuffer_add(out, hdr, 4) || evbuffer_add(out, k.mv_data, k.mv_size) ||
                evbuffer_add(out, vh, 4) || evbuffer_add(out, v.mv_data, v.mv_size)) {
                rc = ENOMEM;
                break;
            }
            *n += 8 + k.mv_size + v.mv_size;
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    br_store_read_end(s->store, txn);
    return rc == ENOMEM ? -ENOMEM : br_store_error(rc);
}

void br_mover_replica_fetch(br_server *s, rpc_call *call) {
    Eddy__ReplicaFetchRequest *req = (Eddy__ReplicaFetchRequest *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__replica_fetch_request__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    Eddy__ReplicaFetchResponse res = EDDY__REPLICA_FETCH_RESPONSE__INIT;
    struct evbuffer *tail = evbuffer_new();
    const Eddy__TopicInfo *t = br_map_topic_by_id(s->map, req->topic_id.data, req->topic_id.len);
    const Eddy__PartitionPlacement *pl = t ? br_map_placement(t, req->partition) : NULL;
    br_part *part = NULL;
    int e = 0;
    if (!tail) {
        res.status = EDDY__STATUS__UNAVAILABLE;
    } else if (!pl) {
        res.status = EDDY__STATUS__UNKNOWN_PARTITION;
    } else if (pl->broker_id != s->self_id || !pl->moving || pl->epoch != req->epoch) {
        res.status = EDDY__STATUS__NOT_OWNER;
    } else if ((e = br_plog_open(s->store, t->topic_id.data, req->partition, false, &part)) < 0 &&
               e != -ENOENT) {
        eddy_log_err(e, "mover", "opening %s/%d", t->name, req->partition);
        res.status = EDDY__STATUS__STORAGE_ERROR;
    } else {
        res.high_watermark = part ? atomic_load(&part->high_watermark) : 0;
        res.log_start_offset = part ? atomic_load(&part->log_start) : 0;
        /* sealed is read before the data: a log sealed then is complete */
        bool sealed = pl->fenced && s->mover &&
                      is_sealed(s->mover, t->topic_id.data, req->partition, pl->epoch);
        size_t n = 0;
        if (req->fetch_offset < res.log_start_offset || req->fetch_offset > res.high_watermark) {
            res.status = EDDY__STATUS__OFFSET_OUT_OF_RANGE;
        } else if (part) {
            size_t max = req->max_bytes > 0 && req->max_bytes < FETCH_MAX_BYTES
                             ? (size_t)req->max_bytes : FETCH_MAX_BYTES;
            e = br_plog_read(s->store, part, req->fetch_offset, max, tail, &n);
            if (e == -ERANGE) {
                res.status = EDDY__STATUS__OFFSET_OUT_OF_RANGE;
            } else if (e < 0) {
                eddy_log_err(e, "mover", "reading %s/%d", t->name, req->partition);
                res.status = EDDY__STATUS__STORAGE_ERROR;
            }
        }
        res.records_len = (uint32_t)n;
        res.sealed = sealed;
        if (res.status == EDDY__STATUS__OK && sealed && n == 0 &&
            !strcmp(t->name, GROUP_OFFSETS_TOPIC)) {
            size_t on = 0;
            e = add_offsets(s, req->partition, tail, &on);
            if (e < 0) {
                eddy_log_err(e, "mover", "reading the offsets of partition %d", req->partition);
                res.status = EDDY__STATUS__STORAGE_ERROR;
            }
            res.offsets_len = (uint32_t)on;
        }
        if (res.status != EDDY__STATUS__OK) {
            evbuffer_drain(tail, evbuffer_get_length(tail));
            res.records_len = res.offsets_len = 0;
        }
    }
    rpc_call_reply(call, EDDY__STATUS__OK, &res.base, tail);
    if (tail)
        evbuffer_free(tail);
    eddy__replica_fetch_request__free_unpacked(req, NULL);
}

/* ---- target: the copy ------------------------------------------------------------ */

static void task_later(task *t, int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (t->timer)
        event_add(t->timer, &tv);
}

typedef struct put_job {
    task *t;
    br_part *part;
    rpc_frame *frame;
    const uint8_t *batches;
    size_t len;
    const uint8_t *offsets;
    size_t offsets_len;
    int64_t expect, new_log_start, end, bytes;
} put_job;


static int put_fn(MDB_txn *txn, void *arg) {
    put_job *j = arg;
    br_store *st = j->t->m->s->store;
    if (j->len) {
        int r = br_plog_put_copied(st, txn, j->part, j->batches, j->len, j->expect,
                                   j->new_log_start, &j->end, &j->bytes);
        /* the idempotent producers' state travels inside the batches */
        if (r == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            r = br_producers_replay(st, txn, j->part->part_id, j->batches, j->len,
                                    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
        }
        if (r < 0)
            return r;
    }
    MDB_dbi dbi = br_store_dbi(st, BR_OFFSETS_DB);
    for (size_t off = 0; off < j->offsets_len;) {
        if (j->offsets_len - off < 4)
            return -EINVAL;
        size_t kl = be_get32(j->offsets + off);
        if (j->offsets_len - off - 4 < kl + 4)
            return -EINVAL;
        size_t vl = be_get32(j->offsets + off + 4 + kl);
        if (j->offsets_len - off - 8 - kl < vl)
            return -EINVAL;
        MDB_val k = {kl, (void *)(j->offsets + off + 4)};
        MDB_val v = {vl, (void *)(j->offsets + off + 8 + kl)};
        int rc = mdb_put(txn, dbi, &k, &v, 0);
        if (rc)
            return br_store_error(rc);
        off += 8 + kl + vl;
    }
    return 0;
}

static void put_done(int err, void *arg) {
    put_job *j = arg;
    task *t = j->t;
    br_server *s = t->m->s;
    s->inflight--;
    t->committing = false;
    if (err == 0 && j->len)
        br_plog_copy_publish(j->part, j->end, j->bytes, j->new_log_start);
    if (err == 0 && j->new_log_start >= 0)
        t->jump = -1;
    bool offsets = j->offsets_len > 0 || (j->len == 0);
    br_part *part = j->part;
    rpc_frame_unref(j->frame);
    free(j);
    if (t->cancelled || s->stopping) {
        task_release(t);
        return;
    }
    if (err) {
        eddy_log_err(err, "mover", "storing copied data of partition %d", t->partition);
        task_later(t, RETRY_MS);
        return;
    }
    if (offsets) {
        t->offsets_done = true;
        task_report(t, true, 0, atomic_load(&part->high_watermark));
        return;
    }
    task_fetch(t);
}

/* Queue a put of the reply's tail (frame referenced until done). */
static int task_put(task *t, br_part *part, rpc_frame *reply, size_t off, size_t len,
                    size_t offsets_len, int64_t expect) {
    put_job *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->t = t;
    j->part = part;
    j->frame = reply;
    j->batches = reply->tail + off;
    j->len = len;
    j->offsets = reply->tail + off + len;
    j->offsets_len = offsets_len;
    j->expect = expect;
    j->new_log_start = t->jump;
    int r = br_commit_submit_fn(t->m->s->committer, put_fn, put_done, j);
    if (r < 0) {
        free(j);
        return r;
    }
    rpc_frame_ref(reply);
    t->committing = true;
    t->m->s->inflight++;
    return 0;
}

static void on_fetch(int err, rpc_frame *reply, void *arg) {
    task *t = arg;
    t->call = 0;
    if (err == -ECANCELED)
        return;
    br_server *s = t->m->s;
    if (t->cancelled || s->stopping) {
        task_release(t);
        return;
    }
    Eddy__ReplicaFetchResponse *res = NULL;
    if (err == 0 && reply->hdr->status == EDDY__STATUS__OK)
        res = (Eddy__ReplicaFetchResponse *)rpc_frame_unpack_body(
            reply, &eddy__replica_fetch_response__descriptor);
    br_part *part = NULL;
    int r = res ? br_plog_open(s->store, t->tid, t->partition, true, &part) : -EIO;
    if (!res || r < 0 || res->status != EDDY__STATUS__OK) {
        if (res && res->status == EDDY__STATUS__OFFSET_OUT_OF_RANGE && part &&
            res->log_start_offset > atomic_load(&part->high_watermark)) {
            /* the owner's retention is past our copy: start over at its log start */
            if (atomic_load(&part->high_watermark) > atomic_load(&part->log_start)) {
                br_fetch_notify(s, t->tid, t->partition);
                r = br_plog_drop(s->store, t->tid, t->partition);
                if (r < 0)
                    eddy_log_err(r, "mover", "dropping a stale copy of partition %d",
                                 t->partition);
            }
            t->jump = res->log_start_offset;
            task_later(t, 0);
        } else {
            LOG_DEBUG("mover", "replica fetch of partition %d from broker %d: %s", t->partition,
                      t->source, err ? strerror(-err) : "refused");
            task_later(t, RETRY_MS);
        }
        if (res)
            eddy__replica_fetch_response__free_unpacked(res, NULL);
        return;
    }
    int64_t hw = atomic_load(&part->high_watermark);
    int64_t expect = t->jump >= 0 ? t->jump : hw;
    if ((uint64_t)res->records_len + res->offsets_len > reply->tail_len) {
        task_later(t, RETRY_MS);
    } else if (res->records_len > 0) {
        r = task_put(t, part, reply, 0, res->records_len, 0, expect);
        if (r < 0)
            task_later(t, RETRY_MS);
    } else if (res->sealed && res->high_watermark == hw && t->jump < 0) {
        /* complete: store the group offsets (if any) and report */
        if (res->offsets_len > 0 && !t->offsets_done) {
            if (task_put(t, part, reply, 0, 0, res->offsets_len, hw) < 0)
                task_later(t, RETRY_MS);
        } else {
            task_report(t, true, 0, hw);
        }
    } else {
        int64_t now = br_mono_ms();
        if (now - t->last_report_ms >= 500) {
            t->last_report_ms = now;
            task_report(t, false, res->high_watermark - hw, hw);
        } else {
            task_later(t, POLL_MS);
        }
    }
    eddy__replica_fetch_response__free_unpacked(res, NULL);
}

static void task_fetch(task *t) {
    br_server *s = t->m->s;
    br_part *part;
    int r = br_plog_open(s->store, t->tid, t->partition, true, &part);
    if (r < 0) {
        eddy_log_err(r, "mover", "opening partition %d for its copy", t->partition);
        task_later(t, RETRY_MS);
        return;
    }
    Eddy__ReplicaFetchRequest req = EDDY__REPLICA_FETCH_REQUEST__INIT;
    req.topic_id.data = t->tid;
    req.topic_id.len = 16;
    req.partition = t->partition;
    req.fetch_offset = t->jump >= 0 ? t->jump : atomic_load(&part->high_watermark);
    req.max_bytes = FETCH_MAX_BYTES;
    req.epoch = t->epoch;
    uint64_t v = br_map_version(s->map);
    t->call = rpc_client_call(t->cl, EDDY__METHOD__REPLICA_FETCH,
                              t->need_version > v ? t->need_version : v, &req.base, NULL,
                              RPC_TIMEOUT_MS, on_fetch, t);
    if (!t->call)
        task_later(t, RETRY_MS);
}

static void after_report(task *t, int status, uint64_t version, bool done) {
    if (status == 0) {
        t->need_version = version;
        /* done: the flip arrives with the map; look again later in case */
        task_later(t, done ? RETRY_MS : POLL_MS);
    } else {
        task_later(t, RETRY_MS);
    }
}

static void on_report(int err, rpc_frame *reply, void *arg) {
    task *t = arg;
    t->rcall = 0;
    if (err == -ECANCELED)
        return;
    if (t->cancelled || t->m->s->stopping) {
        task_release(t);
        return;
    }
    Eddy__MoveStatusResult *res = NULL;
    if (err == 0 && reply->hdr->status == EDDY__STATUS__OK)
        res = (Eddy__MoveStatusResult *)rpc_frame_unpack_body(
            reply, &eddy__move_status_result__descriptor);
    after_report(t, res && res->status == EDDY__STATUS__OK ? 0 : -1,
                 res ? res->map_version : 0, t->report.done);
    if (res)
        eddy__move_status_result__free_unpacked(res, NULL);
}

static void task_report(task *t, bool done, int64_t lag, int64_t end) {
    br_server *s = t->m->s;
    eddy__move_status__init(&t->report);
    t->report.topic_id.data = t->tid;
    t->report.topic_id.len = 16;
    t->report.partition = t->partition;
    t->report.target = s->self_id;
    t->report.epoch = t->epoch;
    t->report.lag = lag;
    t->report.done = done;
    t->report.end_offset = end;
    if (s->ctl) {
        /* from the timer: the controller's change notification reaches
         * br_mover_map_changed, which must not run inside our callbacks */
        t->local_report = true;
        task_later(t, 0);
        return;
    }
    t->rcall = rpc_client_call(s->ctl_client, EDDY__METHOD__MOVE_STATUS, br_map_version(s->map),
                               &t->report.base, NULL, RPC_TIMEOUT_MS, on_report, t);
    if (!t->rcall)
        task_later(t, RETRY_MS);
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    task *t = arg;
    br_server *s = t->m->s;
    if (t->cancelled || s->stopping || t->call || t->rcall || t->committing)
        return;
    if (t->local_report && s->ctl) {
        t->local_report = false;
        uint64_t v = 0;
        t->in_cb = true;
        int r = br_controller_move_status(s->ctl, &t->report, &v);
        t->in_cb = false;
        if (t->cancelled) {
            task_release(t);
            return;
        }
        after_report(t, r, v, t->report.done);
        return;
    }
    task_fetch(t);
}

static void task_start(br_mover *m, const Eddy__TopicInfo *ti, const Eddy__PartitionPlacement *pl) {
    for (task *t = m->tasks; t; t = t->next) {
        if (!t->cancelled && same(t->tid, t->partition, ti->topic_id.data, pl->partition) &&
            t->epoch == pl->epoch && t->source == pl->broker_id) {
            t->live = true;
            return;
        }
    }
    const Eddy__BrokerInfo *src = br_map_broker(m->s->map, pl->broker_id);
    if (!src)
        return;
    task *t = calloc(1, sizeof *t);
    if (!t)
        return;
    t->m = m;
    memcpy(t->tid, ti->topic_id.data, 16);
    t->partition = pl->partition;
    t->epoch = pl->epoch;
    t->source = pl->broker_id;
    t->jump = -1;
    t->live = true;
    /* rpc_client_new refuses a bad name: go by TCP then */
    const char *local = rpc_local_name_valid(src->local_address) ? src->local_address : NULL;
    rpc_client_opts co = {.tls = m->s->rpc_tls, .local = local};
    t->cl = rpc_client_new(m->s->base, src->address, &co);
    t->timer = event_new(m->s->base, -1, 0, on_timer, t);
    if (!t->cl || !t->timer) {
        rpc_client_free(t->cl);
        if (t->timer)
            event_free(t->timer);
        free(t);
        return;
    }
    t->next = m->tasks;
    m->tasks = t;
    LOG_INFO("mover", "copying %s/%d from broker %d (%s)", ti->name, pl->partition,
             pl->broker_id, src->address);
    task_later(t, 0);
}

/* ---- old owner: dropping what moved away ------------------------------------------ */

typedef struct drop_job {
    br_mover *m;
    uint8_t (*tid)[16];
    int32_t *part;
    size_t n, cap;
    int stage;
} drop_job;

/* Did this local partition move away for good? Only a map that gives it
 * to another broker with an epoch newer than our newest batch says so. */
static bool moved_away(br_server *s, const uint8_t *tid, int32_t partition) {
    const Eddy__TopicInfo *ti = br_map_topic_by_id(s->map, tid, 16);
    const Eddy__PartitionPlacement *pl = ti ? br_map_placement(ti, partition) : NULL;
    if (!pl || pl->broker_id == s->self_id || (pl->moving && pl->move_target == s->self_id))
        return false;
    br_part *p;
    int32_t last;
    if (br_plog_open(s->store, tid, partition, false, &p) < 0 ||
        br_plog_last_epoch(s->store, p, &last) < 0)
        return false;
    return (int64_t)pl->epoch > (int64_t)last && pl->epoch > 1;
}

static void collect(const uint8_t topic_id[16], int32_t partition, void *arg) {
    drop_job *j = arg;
    if (j->n == j->cap) {
        size_t nc = j->cap ? j->cap * 2 : 16;
        void *nt = realloc(j->tid, nc * sizeof *j->tid);
        if (!nt)
            return;
        j->tid = nt;
        void *np = realloc(j->part, nc * sizeof *j->part);
        if (!np)
            return;
        j->part = np;
        j->cap = nc;
    }
    memcpy(j->tid[j->n], topic_id, 16);
    j->part[j->n++] = partition;
}

static void drop_job_free(drop_job *j) {
    free(j->tid);
    free(j->part);
    free(j);
}

static void drop_barrier_done(int err, void *arg) {
    drop_job *j = arg;
    br_server *s = j->m->s;
    /* two barriers, as for deleted topics (server.c): appends queued before
     * the map change are committed and their completions have run */
    if (j->stage++ == 0 && !s->stopping &&
        br_commit_submit_fn(s->committer, barrier_fn, drop_barrier_done, j) == 0)
        return;
    if (!s->stopping && j->stage == 2) {
        for (size_t i = 0; i < j->n; i++) {
            if (!moved_away(s, j->tid[i], j->part[i]))
                continue; /* the map changed meanwhile */
            br_fetch_notify(s, j->tid[i], j->part[i]);
            int r = br_plog_drop(s->store, j->tid[i], j->part[i]);
            if (r < 0 && r != -ENOENT)
                eddy_log_err(r, "mover", "dropping moved partition %d", j->part[i]);
            else
                LOG_INFO("mover", "dropped partition %d: it moved to another broker",
                         j->part[i]);
        }
    }
    j->m->drops--;
    s->inflight--;
    drop_job_free(j);
}

static void drop_moved(br_mover *m) {
    br_server *s = m->s;
    if (m->drops)
        return; /* the next map change looks again */
    drop_job *all = calloc(1, sizeof *all), *j = calloc(1, sizeof *j);
    if (!all || !j || br_plog_list(s->store, collect, all) < 0) {
        if (all)
            drop_job_free(all);
        if (j)
            drop_job_free(j);
        return;
    }
    j->m = m;
    for (size_t i = 0; i < all->n; i++)
        if (moved_away(s, all->tid[i], all->part[i]))
            collect(all->tid[i], all->part[i], j);
    drop_job_free(all);
    if (j->n == 0 || br_commit_submit_fn(s->committer, barrier_fn, drop_barrier_done, j) < 0) {
        drop_job_free(j);
        return;
    }
    m->drops++;
    s->inflight++;
}

/* ---- map changes ------------------------------------------------------------------- */

void br_mover_map_changed(br_mover *m) {
    br_server *s = m->s;
    const Eddy__ClusterMap *cm = br_map_get(s->map);
    if (!cm || s->self_id < 0 || s->stopping)
        return;
    for (seal *x = m->seals; x; x = x->next)
        x->live = false;
    for (task *t = m->tasks; t; t = t->next)
        t->live = false;
    for (size_t i = 0; i < cm->n_topics; i++) {
        const Eddy__TopicInfo *ti = cm->topics[i];
        for (size_t k = 0; k < ti->n_partitions; k++) {
            const Eddy__PartitionPlacement *pl = ti->partitions[k];
            if (!pl->moving)
                continue;
            if (pl->broker_id == s->self_id && pl->fenced)
                seal_start(m, ti->topic_id.data, pl->partition, pl->epoch);
            else if (pl->move_target == s->self_id && pl->broker_id != s->self_id)
                task_start(m, ti, pl);
        }
    }
    for (seal **px = &m->seals; *px;) {
        seal *x = *px;
        if (x->live) {
            px = &x->next;
            continue;
        }
        *px = x->next;
        free(x);
    }
    for (task **pt = &m->tasks; *pt;) {
        task *t = *pt;
        if (t->live) {
            pt = &t->next;
            continue;
        }
        *pt = t->next;
        LOG_INFO("mover", "copy of partition %d ended (map version %" PRIu64 ")", t->partition,
                 cm->version);
        task_cancel(t);
    }
    drop_moved(m);
}
