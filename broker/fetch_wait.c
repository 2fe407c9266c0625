/* fetch_wait.c — FETCH, parked fetches, FETCH_WAKE.
 *
 * A parked fetch is found two ways: by (connection id, request id) for
 * FETCH_WAKE, and through one waiter per partition hung on that partition's
 * wait queue, so that a commit re-evaluates only the fetches that read what
 * it wrote. Evaluation re-reads from the store each time: parked fetches had
 * (almost) nothing to read, so that is cheap, and it keeps no state that a
 * map change could make stale. */
#include "fetch_wait.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"

#define BUCKETS 4096u   /* fixed: parked fetches are capped at 10000 */

typedef struct parked parked;
typedef struct waitq waitq;

typedef struct waiter {
    struct waiter *prev, *next;  /* in q's list */
    waitq *q;
    parked *pf;
} waiter;

struct waitq {
    uint8_t topic_id[16];
    int32_t partition;
    waitq *next;                 /* bucket chain */
    waiter *head;
};

struct parked {
    br_server *s;
    rpc_call *call;
    Eddy__FetchRequest *req;
    uint64_t conn, id;
    parked *next;                /* bucket chain */
    struct event *timer;
    waiter *w;
    size_t nw;
    uint64_t mark;               /* last notify round that saw it */
};

struct br_fetch_waits {
    parked *by_call[BUCKETS];
    waitq *by_part[BUCKETS];
    size_t nparked;
    uint64_t round;
};

static uint32_t part_hash(const uint8_t id[16], int32_t partition) {
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ id[i]) * 16777619u;
    h = (h ^ (uint32_t)partition) * 16777619u;
    return h & (BUCKETS - 1);
}

static uint32_t call_hash(uint64_t conn, uint64_t id) {
    uint64_t h = (conn * 0x9E3779B97F4A7C15ull) ^ (id * 0xC2B2AE3D27D4EB4Full);
    return (uint32_t)(h >> 40) & (BUCKETS - 1);
}

/* ---- evaluation -------------------------------------------------------------- */

/* Read one partition into @p tail, under @p pin when there is one (a held
 * reply). Returns the status; *n gets the bytes. */
static Eddy__Status read_one(br_server *s, const Eddy__FetchPartition *fp,
                             Eddy__FetchPartitionResult *r, size_t limit, bool first,
                             br_pin *pin, MDB_txn *txn, struct evbuffer *tail, size_t *n) {
    *n = 0;
    const Eddy__TopicInfo *t;
    Eddy__Status st =
        br_map_check(s->map, s->self_id, fp->topic, &fp->topic_id, fp->partition, &t, NULL);
    if (st != EDDY__STATUS__OK)
        return st;
    br_part *part;
    int e = br_plog_open(s->store, t->topic_id.data, fp->partition, false, &part);
    if (e == -ENOENT) {
        /* owned, never written: an empty log that starts at 0 */
        r->high_watermark = r->last_stable_offset = r->log_start_offset = 0;
        return fp->fetch_offset == 0 ? EDDY__STATUS__OK : EDDY__STATUS__OFFSET_OUT_OF_RANGE;
    }
    if (e < 0) {
        eddy_log_err(e, "fetch", "opening %s/%d", t->name, fp->partition);
        return EDDY__STATUS__STORAGE_ERROR;
    }
    r->log_start_offset = atomic_load(&part->log_start);
    r->high_watermark = r->last_stable_offset = atomic_load(&part->high_watermark);
    if (limit == 0 || fp->max_bytes <= 0) {
        /* nothing may be returned, but the offset must still be valid */
        return fp->fetch_offset < r->log_start_offset || fp->fetch_offset > r->high_watermark
                   ? EDDY__STATUS__OFFSET_OUT_OF_RANGE
                   : EDDY__STATUS__OK;
    }
    struct evbuffer *one = evbuffer_new();
    if (!one)
        return EDDY__STATUS__UNAVAILABLE;
    if (pin) {
        /* file segments stay segments only in a buffer bound for a socket */
        evbuffer_set_flags(one, EVBUFFER_FLAG_DRAINS_TO_FD);
        e = br_plog_read_held(s->store, pin, txn, part, fp->fetch_offset, limit, one, n);
    } else {
        e = br_plog_read(s->store, part, fp->fetch_offset, limit, one, n);
    }
    if (e == -ERANGE) {
        evbuffer_free(one);
        *n = 0;
        return EDDY__STATUS__OFFSET_OUT_OF_RANGE;
    }
    if (e < 0) {
        evbuffer_free(one);
        *n = 0;
        eddy_log_err(e, "fetch", "reading %s/%d at %lld", t->name, fp->partition,
                     (long long)fp->fetch_offset);
        return EDDY__STATUS__STORAGE_ERROR;
    }
    /* plog returns at least one batch even over the limit (KIP-74); Kafka
     * grants that only to the first partition that returns data */
    if (!first && *n > limit) {
        evbuffer_free(one);
        *n = 0;
        return EDDY__STATUS__OK;
    }
    evbuffer_add_buffer(tail, one);
    evbuffer_free(one);
    return EDDY__STATUS__OK;
}

static void release_pin(void *pin) { br_pin_unref(pin); }

/* Build the answer; send it and return true when it is due (enough bytes,
 * an error, no wait asked, @p force, peer gone), else return false and
 * send nothing. */
static bool evaluate(br_server *s, rpc_call *call, const Eddy__FetchRequest *req, bool force) {
    size_t n = req->n_partitions;
    Eddy__FetchPartitionResult *res = calloc(n ? n : 1, sizeof *res);
    Eddy__FetchPartitionResult **resp = calloc(n ? n : 1, sizeof *resp);
    struct evbuffer *tail = evbuffer_new();
    if (!res || !resp || !tail) {
        free(res);
        free(resp);
        if (tail)
            evbuffer_free(tail);
        rpc_call_reply(call, EDDY__STATUS__UNAVAILABLE, NULL, NULL);
        return true;
    }
    /* A peer that acknowledges held replies gets large batches by sendfile()
     * under one pin, kept until it has read them; else each read pins (or
     * copies) on its own. */
    br_pin *pin = NULL;
    MDB_txn *txn = NULL;
    if (rpc_call_can_hold(call) && br_store_pin_begin(s->store, &pin, &txn) < 0)
        pin = NULL;
    size_t remaining = req->max_bytes > 0 ? (size_t)req->max_bytes : (size_t)INT32_MAX;
    size_t total = 0;
    bool error = false;
    for (size_t i = 0; i < n; i++) {
        const Eddy__FetchPartition *fp = req->partitions[i];
        Eddy__FetchPartitionResult *r = &res[i];
        eddy__fetch_partition_result__init(r);
        resp[i] = r;
        r->high_watermark = r->last_stable_offset = r->log_start_offset = -1;
        size_t limit = remaining;
        if (fp->max_bytes > 0 && (size_t)fp->max_bytes < limit)
            limit = (size_t)fp->max_bytes;
        size_t got = 0;
        r->status = read_one(s, fp, r, limit, total == 0, pin, txn, tail, &got);
        r->records_len = (uint32_t)got;
        total += got;
        remaining = got >= remaining ? 0 : remaining - got;
        if (r->status != EDDY__STATUS__OK)
            error = true;
    }
    /* min_bytes 0 means "answer at once", as in Kafka */
    bool due = force || error || req->max_wait_ms <= 0 || req->min_bytes <= 0 ||
               total >= (size_t)req->min_bytes || !rpc_call_peer_alive(call);
    if (due) {
        Eddy__FetchResponse out = EDDY__FETCH_RESPONSE__INIT;
        out.n_partitions = n;
        out.partitions = resp;
        if (pin) {
            rpc_call_reply_held(call, EDDY__STATUS__OK, &out.base, tail, release_pin, pin);
            pin = NULL; /* released with the reply */
        } else {
            rpc_call_reply(call, EDDY__STATUS__OK, &out.base, tail);
        }
    }
    evbuffer_free(tail); /* before the pin: its chains may refer to the map */
    if (pin)
        br_pin_unref(pin);
    free(res);
    free(resp);
    return due;
}

/* ---- parking ------------------------------------------------------------------ */

static void unpark(br_fetch_waits *fw, parked *pf) {
    parked **pp = &fw->by_call[call_hash(pf->conn, pf->id)];
    while (*pp && *pp != pf)
        pp = &(*pp)->next;
    if (*pp)
        *pp = pf->next;
    for (size_t i = 0; i < pf->nw; i++) {
        waiter *w = &pf->w[i];
        if (!w->q)
            continue;
        if (w->prev)
            w->prev->next = w->next;
        else
            w->q->head = w->next;
        if (w->next)
            w->next->prev = w->prev;
        if (!w->q->head) {
            /* last waiter: drop the queue from its bucket */
            waitq **qp = &fw->by_part[part_hash(w->q->topic_id, w->q->partition)];
            while (*qp && *qp != w->q)
                qp = &(*qp)->next;
            if (*qp)
                *qp = w->q->next;
            free(w->q);
        }
    }
    if (pf->timer)
        event_free(pf->timer);
    if (pf->req)
        eddy__fetch_request__free_unpacked(pf->req, NULL);
    free(pf->w);
    free(pf);
    fw->nparked--;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
    parked *pf = arg;
    evaluate(pf->s, pf->call, pf->req, true);
    unpark(pf->s->fetch, pf);
}

static waitq *get_queue(br_fetch_waits *fw, const uint8_t id[16], int32_t partition, bool create) {
    waitq **b = &fw->by_part[part_hash(id, partition)];
    for (waitq *q = *b; q; q = q->next)
        if (q->partition == partition && !memcmp(q->topic_id, id, 16))
            return q;
    if (!create)
        return NULL;
    waitq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    memcpy(q->topic_id, id, 16);
    q->partition = partition;
    q->next = *b;
    *b = q;
    return q;
}

/* Park @p call; false when it could not be (then the caller answers). */
static bool park(br_server *s, rpc_call *call, Eddy__FetchRequest *req) {
    br_fetch_waits *fw = s->fetch;
    if (fw->nparked >= BR_MAX_PARKED_FETCHES)
        return false;
    parked *pf = calloc(1, sizeof *pf);
    if (!pf)
        return false;
    pf->s = s;
    pf->call = call;
    pf->req = req;
    pf->conn = rpc_call_conn_id(call);
    pf->id = rpc_call_frame(call)->hdr->id;
    pf->w = calloc(req->n_partitions ? req->n_partitions : 1, sizeof *pf->w);
    int wait = req->max_wait_ms < BR_MAX_FETCH_WAIT_MS ? req->max_wait_ms : BR_MAX_FETCH_WAIT_MS;
    struct timeval tv = {wait / 1000, (wait % 1000) * 1000};
    pf->timer = evtimer_new(s->base, on_timeout, pf);
    if (!pf->w || !pf->timer || evtimer_add(pf->timer, &tv) < 0) {
        if (pf->timer)
            event_free(pf->timer);
        free(pf->w);
        free(pf);
        return false;
    }
    parked **b = &fw->by_call[call_hash(pf->conn, pf->id)];
    pf->next = *b;
    *b = pf;
    fw->nparked++;
    pf->nw = req->n_partitions;
    for (size_t i = 0; i < req->n_partitions; i++) {
        const Eddy__FetchPartition *fp = req->partitions[i];
        const Eddy__TopicInfo *t;
        /* evaluation just passed the ownership check for every partition */
        if (br_map_check(s->map, s->self_id, fp->topic, &fp->topic_id, fp->partition, &t, NULL) !=
            EDDY__STATUS__OK)
            continue;
        waitq *q = get_queue(fw, t->topic_id.data, fp->partition, true);
        if (!q) {
            pf->req = NULL;  /* stays the caller's */
            unpark(fw, pf);
            return false;
        }
        waiter *w = &pf->w[i];
        w->q = q;
        w->pf = pf;
        w->next = q->head;
        if (q->head)
            q->head->prev = w;
        q->head = w;
    }
    return true;
}

/* ---- API ------------------------------------------------------------------------ */

int br_fetch_init(br_server *s) {
    s->fetch = calloc(1, sizeof *s->fetch);
    return s->fetch ? 0 : -ENOMEM;
}

void br_fetch_free(br_server *s) {
    br_fetch_waits *fw = s->fetch;
    if (!fw)
        return;
    for (size_t b = 0; b < BUCKETS; b++) {
        while (fw->by_call[b]) {
            parked *pf = fw->by_call[b];
            evaluate(s, pf->call, pf->req, true);
            unpark(fw, pf);
        }
    }
    free(fw);
    s->fetch = NULL;
}

size_t br_fetch_parked(const br_server *s) { return s->fetch ? s->fetch->nparked : 0; }

void br_fetch_handle(br_server *s, rpc_call *call) {
    Eddy__FetchRequest *req = (Eddy__FetchRequest *)rpc_frame_unpack_body(
        rpc_call_frame(call), &eddy__fetch_request__descriptor);
    if (!req) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    if (evaluate(s, call, req, false)) {
        eddy__fetch_request__free_unpacked(req, NULL);
        return;
    }
    if (park(s, call, req))
        return;
    /* over the cap or out of memory: answer with what is there */
    LOG_DEBUG("fetch", "cannot park fetch (%zu parked): answering now", s->fetch->nparked);
    evaluate(s, call, req, true);
    eddy__fetch_request__free_unpacked(req, NULL);
}

void br_fetch_wake(br_server *s, rpc_call *call) {
    Eddy__FetchWake *w = (Eddy__FetchWake *)rpc_frame_unpack_body(rpc_call_frame(call),
                                                                   &eddy__fetch_wake__descriptor);
    if (!w) {
        rpc_call_reply(call, EDDY__STATUS__INVALID_REQUEST, NULL, NULL);
        return;
    }
    br_fetch_waits *fw = s->fetch;
    uint64_t conn = rpc_call_conn_id(call);
    for (parked *pf = fw->by_call[call_hash(conn, w->fetch_id)]; pf; pf = pf->next) {
        if (pf->conn == conn && pf->id == w->fetch_id) {
            evaluate(s, pf->call, pf->req, true);
            unpark(fw, pf);
            break;
        }
    }
    eddy__fetch_wake__free_unpacked(w, NULL);
    Eddy__Empty empty = EDDY__EMPTY__INIT;
    rpc_call_reply(call, EDDY__STATUS__OK, &empty.base, NULL);
}

void br_fetch_notify(br_server *s, const uint8_t topic_id[16], int32_t partition) {
    br_fetch_waits *fw = s->fetch;
    if (!fw)
        return;
    waitq *q = get_queue(fw, topic_id, partition, false);
    if (!q)
        return;
    /* collect first: answering a fetch unlinks its waiters (and may free q) */
    size_t n = 0, cap = 0;
    parked **list = NULL;
    uint64_t round = ++fw->round;
    for (waiter *w = q->head; w; w = w->next) {
        if (w->pf->mark == round)
            continue;  /* the same partition twice in one fetch */
        w->pf->mark = round;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            parked **nl = realloc(list, nc * sizeof *nl);
            if (!nl)
                break;  /* the rest are answered by their timers */
            list = nl;
            cap = nc;
        }
        list[n++] = w->pf;
    }
    for (size_t i = 0; i < n; i++)
        if (evaluate(s, list[i]->call, list[i]->req, false))
            unpark(fw, list[i]);
    free(list);
}
