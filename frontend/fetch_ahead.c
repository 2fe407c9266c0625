/* fetch_ahead.c — read-ahead of a consumer's next Fetch (see fetch_ahead.h). */
#include "fetch_ahead.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* A reply kept longer than this is dropped rather than used: its data is
 * still right, but a fresh fetch reports fresher watermarks. */
#define AHEAD_MAX_AGE_NS 1000000000ull

typedef struct ahead_part {
    uint8_t topic_id[16];
    int32_t partition;
    int64_t fetch_offset;
    int32_t max_bytes;
    uint32_t epoch;
} ahead_part;

struct fe_ahead {
    struct fe_ahead *next;
    fe_conn *conn;            /* NULL once detached (dropped while awaited) */
    int32_t broker_id;
    rpc_client *client;       /* NULL once the call completed */
    uint64_t call_id;
    int32_t max_bytes;
    int n;
    ahead_part *parts;
    int64_t charged;          /* bytes held against the budget */
    bool arrived;
    bool useful;              /* arrived with data and no error */
    rpc_frame *reply;         /* one reference once arrived (err 0) */
    uint64_t arrived_ns;
    rpc_reply_cb cb;          /* a Fetch waiting for it */
    void *cb_arg;
};

static atomic_llong budget_left;
static atomic_ullong n_hits, n_misses;

void fe_fetch_ahead_set_budget(int64_t bytes) { atomic_store(&budget_left, bytes); }
uint64_t fe_fetch_ahead_hits(void) { return atomic_load(&n_hits); }
uint64_t fe_fetch_ahead_misses(void) { return atomic_load(&n_misses); }

static bool charge(int64_t n) {
    long long left = atomic_load(&budget_left);
    do {
        if (left < n)
            return false;
    } while (!atomic_compare_exchange_weak(&budget_left, &left, left - n));
    return true;
}

static void refund(int64_t n) { atomic_fetch_add(&budget_left, n); }

static void ahead_free(fe_ahead *a) {
    refund(a->charged);
    rpc_frame_unref(a->reply);
    free(a->parts);
    free(a);
}

/* Take @p a off its connection's list. */
static void unlink_ahead(fe_ahead *a) {
    if (!a->conn)
        return;
    for (fe_ahead **pp = &a->conn->fetch_ahead; *pp; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    }
    a->conn = NULL;
    a->next = NULL;
}

/* Drop a read-ahead nobody waits for: cancel its call if it is still out. */
static void drop(fe_ahead *a) {
    unlink_ahead(a);
    if (!a->arrived && a->client)
        rpc_client_cancel(a->client, a->call_id);
    ahead_free(a);
}

/* The reply tells whether it is worth handing to a Fetch: status OK, every
 * partition OK, some bytes. */
/* Let go of @p a: one a Fetch waits for stays alive, off the list, until
 * its reply arrives; any other is dropped. */
static void discard(fe_ahead *a) {
    if (a->cb)
        unlink_ahead(a);
    else
        drop(a);
}

static bool reply_useful(rpc_frame *reply, int n) {
    if (reply->hdr->status != EDDY__STATUS__OK || reply->tail_len == 0)
        return false;
    Eddy__FetchResponse *res =
        (Eddy__FetchResponse *)rpc_frame_unpack_body(reply, &eddy__fetch_response__descriptor);
    if (!res)
        return false;
    bool ok = res->n_partitions == (size_t)n;
    for (size_t i = 0; ok && i < res->n_partitions; i++)
        ok = res->partitions[i]->status == EDDY__STATUS__OK;
    protobuf_c_message_free_unpacked(&res->base, NULL);
    return ok;
}

static void on_ahead_reply(int err, rpc_frame *reply, void *arg) {
    fe_ahead *a = arg;
    a->client = NULL; /* completed: nothing to cancel (and the client may be going) */
    a->arrived = true;
    a->arrived_ns = fe_now_ns();
    if (a->cb) {
        /* a Fetch took it while it was out: hand the reply over as is */
        rpc_reply_cb cb = a->cb;
        void *cb_arg = a->cb_arg;
        unlink_ahead(a);
        if (err == 0 && reply->tail_len > 0)
            atomic_fetch_add(&n_hits, 1);
        cb(err, reply, cb_arg);
        ahead_free(a);
        return;
    }
    if (!a->conn) { /* detached meanwhile */
        ahead_free(a);
        return;
    }
    if (err == 0) {
        a->useful = reply_useful(reply, a->n);
        if (a->useful) {
            rpc_frame_ref(reply);
            a->reply = reply;
            /* charge what arrived, not what was asked */
            int64_t size = (int64_t)reply->tail_len;
            if (size > a->charged && !charge(size - a->charged)) {
                drop(a);
                return;
            }
            if (size < a->charged)
                refund(a->charged - size);
            a->charged = size;
            return;
        }
    }
    drop(a); /* an error or nothing: the client's own fetch will wait properly */
}

static fe_ahead *find(fe_conn *conn, int32_t broker_id) {
    for (fe_ahead *a = conn->fetch_ahead; a; a = a->next)
        if (a->broker_id == broker_id)
            return a;
    return NULL;
}

void fe_fetch_ahead_start(fe_conn *conn, int32_t broker_id, rpc_client *client,
                          uint64_t map_version, const Eddy__FetchRequest *q) {
    fe_ahead *old = find(conn, broker_id);
    if (old)
        discard(old);
    if (conn->closed || q->n_partitions == 0 || q->n_partitions > INT32_MAX)
        return;
    /* charge what the broker may send back (one batch over a limit is the
     * KIP-74 exception: settled when the reply arrives) */
    int64_t want = 0;
    for (size_t i = 0; i < q->n_partitions; i++)
        want += q->partitions[i]->max_bytes > 0 ? q->partitions[i]->max_bytes : 0;
    if (q->max_bytes > 0 && want > q->max_bytes)
        want = q->max_bytes;
    if (want <= 0 || !charge(want))
        return;
    fe_ahead *a = calloc(1, sizeof *a);
    if (a)
        a->parts = calloc(q->n_partitions, sizeof *a->parts);
    if (!a || !a->parts) {
        free(a);
        refund(want);
        return;
    }
    a->charged = want;
    a->conn = conn;
    a->broker_id = broker_id;
    a->max_bytes = q->max_bytes;
    a->n = (int)q->n_partitions;
    for (int i = 0; i < a->n; i++) {
        const Eddy__FetchPartition *p = q->partitions[i];
        if (p->topic_id.len == 16)
            memcpy(a->parts[i].topic_id, p->topic_id.data, 16);
        a->parts[i].partition = p->partition;
        a->parts[i].fetch_offset = p->fetch_offset;
        a->parts[i].max_bytes = p->max_bytes;
        a->parts[i].epoch = p->epoch;
    }
    Eddy__FetchRequest r = *q;
    r.max_wait_ms = 0;
    r.min_bytes = 0;
    a->client = client;
    a->call_id = rpc_client_call_ex(client, EDDY__METHOD__FETCH, map_version, &r.base, NULL,
                                    conn->worker->conf->request_timeout_ms, RPC_CALL_SPLIT_TAIL,
                                    on_ahead_reply, a);
    if (!a->call_id) {
        ahead_free(a);
        return;
    }
    a->next = conn->fetch_ahead;
    conn->fetch_ahead = a;
}

static bool part_equal(const ahead_part *m, const Eddy__FetchPartition *p) {
    return p->topic_id.len == 16 && memcmp(p->topic_id.data, m->topic_id, 16) == 0 &&
           p->partition == m->partition && p->fetch_offset == m->fetch_offset &&
           p->max_bytes == m->max_bytes && p->epoch == m->epoch;
}

/* Does @p q ask what @p a asked, in the same order or rotated (librdkafka
 * starts each Fetch one partition further on)? Fills order[] as documented
 * at fe_fetch_ahead_find. */
static bool same_request(const fe_ahead *a, const Eddy__FetchRequest *q, int *order) {
    int n = a->n;
    if ((size_t)n != q->n_partitions || a->max_bytes != q->max_bytes)
        return false;
    int j0 = -1;
    for (int j = 0; j < n && j0 < 0; j++)
        if (part_equal(&a->parts[j], q->partitions[0]))
            j0 = j;
    if (j0 < 0)
        return false;
    for (int i = 0; i < n; i++) {
        int j = (j0 + i) % n;
        if (!part_equal(&a->parts[j], q->partitions[i]))
            return false;
        order[j] = i;
    }
    return true;
}

fe_ahead *fe_fetch_ahead_find(fe_conn *conn, int32_t broker_id, const Eddy__FetchRequest *q,
                           int *order) {
    fe_ahead *a = find(conn, broker_id);
    if (!a)
        return NULL;
    bool fresh = !a->arrived || fe_now_ns() - a->arrived_ns < AHEAD_MAX_AGE_NS;
    if (a->cb || !fresh || (a->arrived && !a->useful) || !same_request(a, q, order)) {
        atomic_fetch_add(&n_misses, 1);
        discard(a);
        return NULL;
    }
    return a;
}

void fe_fetch_ahead_claim(fe_ahead *a, rpc_reply_cb cb, void *arg) {
    if (!a->arrived) {
        /* still out: the Fetch waits for it instead of asking again */
        a->cb = cb;
        a->cb_arg = arg;
        return;
    }
    unlink_ahead(a);
    atomic_fetch_add(&n_hits, 1);
    cb(0, a->reply, arg);
    ahead_free(a);
}

void fe_fetch_ahead_free(fe_conn *conn) {
    while (conn->fetch_ahead) {
        /* (a Fetch waiting on one holds a connection reference, so at the
         * last reference none is awaited; discard keeps that safe anyway) */
        discard(conn->fetch_ahead);
    }
}
