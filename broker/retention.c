/* retention.c — periodic head truncation by time and size. */
#include "retention.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "logscan.h"

struct br_retention {
    struct event *timer;
};

typedef struct trunc_job {
    br_server *s;
    br_part *part;
    int64_t new_start;
} trunc_job;

static int trunc_fn(MDB_txn *txn, void *arg) {
    trunc_job *j = arg;
    return br_plog_truncate_head(j->s->store, txn, j->part, j->new_start);
}

static void trunc_done(int err, void *arg) {
    trunc_job *j = arg;
    if (err < 0)
        eddy_log_err(err, "retention", "truncating partition %d below %lld", j->part->partition,
                     (long long)j->new_start);
    else
        LOG_DEBUG("retention", "partition %d now starts at %lld", j->part->partition,
                  (long long)j->new_start);
    j->s->inflight--;
    free(j);
}

typedef struct size_walk {
    int64_t total, keep_bytes, last_base;
    int64_t start;      /* first batch kept */
} size_walk;

static int size_step(const br_batch_info *b, void *arg) {
    size_walk *w = arg;
    /* as Kafka: drop the oldest while what remains still holds retention.bytes */
    if (b->base_offset >= w->last_base || w->total - (int64_t)b->len < w->keep_bytes) {
        w->start = b->base_offset;
        return 1;
    }
    w->total -= (int64_t)b->len;
    return 0;
}

/* The new log start of @p p, or its current one when nothing expires. */
static int new_start_of(br_server *s, br_part *p, int64_t retention_ms, int64_t retention_bytes,
                        int64_t now_ms, int64_t *out) {
    int64_t start = atomic_load(&p->log_start);
    *out = start;
    if (atomic_load(&p->high_watermark) <= start)
        return 0;
    br_batch_info last;
    int r = br_logscan_last(s->store, p, &last);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    int64_t ns = start;
    if (retention_ms >= 0) {
        int64_t off, ts;
        r = br_plog_offset_for_time(s->store, p, now_ms - retention_ms, &off, &ts);
        if (r < 0)
            return r;
        /* -1: every batch is older than the cutoff; keep the newest one */
        int64_t cand = off < 0 ? last.base_offset : off;
        if (cand > ns)
            ns = cand;
    }
    if (retention_bytes >= 0) {
        size_walk w = {atomic_load(&p->bytes), retention_bytes, last.base_offset, start};
        r = br_logscan(s->store, p, start, size_step, &w);
        if (r < 0)
            return r;
        if (w.start > ns)
            ns = w.start;
    }
    if (ns > last.base_offset)
        ns = last.base_offset;
    *out = ns;
    return 0;
}

int br_retention_run(br_server *s, int64_t now_ms) {
    const Eddy__ClusterMap *m = br_map_get(s->map);
    int queued = 0;
    for (size_t i = 0; m && s->self_id >= 0 && i < m->n_topics; i++) {
        const Eddy__TopicInfo *t = m->topics[i];
        const char *policy = br_map_config(t, "cleanup.policy");
        /* compact-only topics are not deleted by age or size in Kafka */
        if (policy && !strstr(policy, "delete"))
            continue;
        int64_t rms = br_map_config_i64(t, "retention.ms", BR_DEFAULT_RETENTION_MS);
        int64_t rbytes = br_map_config_i64(t, "retention.bytes", -1);
        if (rms < 0 && rbytes < 0)
            continue;
        for (size_t k = 0; k < t->n_partitions; k++) {
            const Eddy__PartitionPlacement *pl = t->partitions[k];
            if (pl->broker_id != s->self_id || t->topic_id.len != 16)
                continue;
            br_part *p;
            int r = br_plog_open(s->store, t->topic_id.data, pl->partition, false, &p);
            if (r == -ENOENT)
                continue;
            int64_t ns = 0;
            if (r == 0)
                r = new_start_of(s, p, rms, rbytes, now_ms, &ns);
            if (r < 0) {
                eddy_log_err(r, "retention", "checking %s/%d", t->name, pl->partition);
                continue;
            }
            if (ns <= atomic_load(&p->log_start))
                continue;
            trunc_job *j = malloc(sizeof *j);
            if (!j)
                return -ENOMEM;
            j->s = s;
            j->part = p;
            j->new_start = ns;
            r = br_commit_submit_fn(s->committer, trunc_fn, trunc_done, j);
            if (r < 0) {
                free(j);
                eddy_log_err(r, "retention", "queueing truncation of %s/%d", t->name,
                             pl->partition);
                continue;
            }
            s->inflight++;
            queued++;
            LOG_INFO("retention", "%s/%d: deleting offsets below %lld", t->name, pl->partition,
                     (long long)ns);
        }
    }
    return queued;
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    br_server *s = arg;
    if (!s->stopping)
        br_retention_run(s, br_now_ms());
}

int br_retention_start(br_server *s, int interval_ms) {
    br_retention *rt = calloc(1, sizeof *rt);
    if (!rt)
        return -ENOMEM;
    rt->timer = event_new(s->base, -1, EV_PERSIST, on_timer, s);
    struct timeval tv = {interval_ms / 1000, (interval_ms % 1000) * 1000};
    if (!rt->timer || event_add(rt->timer, &tv) < 0) {
        if (rt->timer)
            event_free(rt->timer);
        free(rt);
        return -ENOMEM;
    }
    s->retention = rt;
    return 0;
}

void br_retention_stop(br_server *s) {
    if (!s->retention)
        return;
    event_free(s->retention->timer);
    free(s->retention);
    s->retention = NULL;
}
