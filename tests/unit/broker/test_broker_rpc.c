/* test_broker_rpc.c — in-process broker tests: a controller broker and a
 * second broker started through br_server_start() (the path main.c uses),
 * driven by an rpc_client on the same event loop. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "../unit.h"
#include "br_config.h"
#include "controller.h"
#include "crc32c.h"
#include "fetch_wait.h"
#include "kafka_records.h"
#include "plog.h"
#include "retention.h"
#include "rpc.h"
#include "server.h"

static struct event_base *base;
static char tmpdir[64];

/* ---- helpers ------------------------------------------------------------- */

static int64_t mono(void) { return br_mono_ms(); }

/* Run the loop until *flag or @p ms pass (a 10 ms ticker set up in main
 * makes every EVLOOP_ONCE return in time to check the deadline). */
static void run_until(const bool *flag, int ms) {
    int64_t end = mono() + ms;
    while (!*flag && mono() < end)
        event_base_loop(base, EVLOOP_ONCE);
}

static void on_ticker(evutil_socket_t fd, short what, void *arg) {}

typedef struct reply_box {
    bool done;
    int err;
    rpc_frame *f;
    int64_t at;
} reply_box;

static void on_reply(int err, rpc_frame *reply, void *arg) {
    reply_box *b = arg;
    b->done = true;
    b->err = err;
    b->at = mono();
    if (reply) {
        rpc_frame_ref(reply);
        b->f = reply;
    }
}

static uint64_t call_async(rpc_client *c, Eddy__Method m, uint64_t mv, const ProtobufCMessage *body,
                           struct evbuffer *tail, reply_box *b) {
    memset(b, 0, sizeof *b);
    return rpc_client_call(c, m, mv, body, tail, 5000, on_reply, b);
}

/* Call and wait; returns the reply frame (caller unrefs) or NULL. */
static rpc_frame *call(rpc_client *c, Eddy__Method m, uint64_t mv, const ProtobufCMessage *body,
                       struct evbuffer *tail) {
    reply_box b;
    if (!call_async(c, m, mv, body, tail, &b))
        return NULL;
    run_until(&b.done, 6000);
    if (!b.done || b.err) {
        fprintf(stderr, "call %d failed: done=%d err=%d\n", m, b.done, b.err);
        return NULL;
    }
    return b.f;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static void put_be64(uint8_t *p, uint64_t v) {
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}
static int64_t get_be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static size_t put_varint(uint8_t *p, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

/* A valid v2 batch of @p nrec records with values "v<i>", timestamp @p ts. */
static size_t make_batch(uint8_t *out, int nrec, int64_t ts, const char *tag) {
    uint8_t *p = out + KAFKA_BATCH_HEADER_LEN;
    for (int i = 0; i < nrec; i++) {
        uint8_t body[128];
        size_t n = 0;
        body[n++] = 0;                       /* attributes */
        n += put_varint(body + n, 0);        /* timestampDelta */
        n += put_varint(body + n, i);        /* offsetDelta */
        n += put_varint(body + n, -1);       /* key: null */
        char val[64];
        int vl = snprintf(val, sizeof val, "%s-%d", tag, i);
        n += put_varint(body + n, vl);
        memcpy(body + n, val, (size_t)vl);
        n += (size_t)vl;
        n += put_varint(body + n, 0);        /* headers */
        p += put_varint(p, (int64_t)n);
        memcpy(p, body, n);
        p += n;
    }
    size_t total = (size_t)(p - out);
    memset(out, 0, KAFKA_BATCH_HEADER_LEN);
    put_be64(out, 0);
    put_be32(out + 8, (uint32_t)(total - 12));
    put_be32(out + 12, 1);                   /* leader epoch: the placement's (1) */
    out[16] = 2;
    /* attributes 0 at 21 */
    put_be32(out + 23, (uint32_t)(nrec - 1));
    put_be64(out + 27, (uint64_t)ts);
    put_be64(out + 35, (uint64_t)ts);
    put_be64(out + 43, (uint64_t)-1);
    out[51] = 0xff;
    out[52] = 0xff;
    put_be32(out + 53, (uint32_t)-1);
    put_be32(out + 57, (uint32_t)nrec);
    put_be32(out + 17, crc32c(0, out + 21, total - 21));
    return total;
}

/* ---- RPC wrappers ------------------------------------------------------------ */

static Eddy__TopicResult *create_topic(rpc_client *c, const char *name, int n, const char *cfg_name,
                                       const char *cfg_val, bool validate_only) {
    Eddy__CreateTopicRequest req = EDDY__CREATE_TOPIC_REQUEST__INIT;
    Eddy__ConfigEntry ce = EDDY__CONFIG_ENTRY__INIT, *cep = &ce;
    req.name = (char *)name;
    req.num_partitions = n;
    req.validate_only = validate_only;
    if (cfg_name) {
        ce.name = (char *)cfg_name;
        ce.value = (char *)cfg_val;
        req.n_configs = 1;
        req.configs = &cep;
    }
    rpc_frame *f = call(c, EDDY__METHOD__CREATE_TOPIC, 0, &req.base, NULL);
    if (!f)
        return NULL;
    Eddy__TopicResult *r =
        (Eddy__TopicResult *)rpc_frame_unpack_body(f, &eddy__topic_result__descriptor);
    rpc_frame_unref(f);
    return r;
}

static int create_status(rpc_client *c, const char *name, int n, const char *cn, const char *cv) {
    Eddy__TopicResult *r = create_topic(c, name, n, cn, cv, false);
    if (!r)
        return -1;
    int st = r->status;
    eddy__topic_result__free_unpacked(r, NULL);
    return st;
}

static Eddy__ClusterMap *get_map(rpc_client *c) {
    Eddy__GetMapRequest req = EDDY__GET_MAP_REQUEST__INIT;
    rpc_frame *f = call(c, EDDY__METHOD__GET_MAP, 0, &req.base, NULL);
    if (!f)
        return NULL;
    Eddy__ClusterMap *m =
        (Eddy__ClusterMap *)rpc_frame_unpack_body(f, &eddy__cluster_map__descriptor);
    rpc_frame_unref(f);
    return m;
}

static const Eddy__TopicInfo *map_topic(const Eddy__ClusterMap *m, const char *name) {
    for (size_t i = 0; m && i < m->n_topics; i++)
        if (!strcmp(m->topics[i]->name, name))
            return m->topics[i];
    return NULL;
}

typedef struct topic_ref {
    char name[64];
    uint8_t id[16];
} topic_ref;

/* Produce @p len bytes of batches to one partition. */
static Eddy__ProduceResponse *produce(rpc_client *c, uint64_t mv, const topic_ref *t, int part,
                                      const uint8_t *batches, size_t len) {
    Eddy__ProduceRequest req = EDDY__PRODUCE_REQUEST__INIT;
    Eddy__ProducePartition pp = EDDY__PRODUCE_PARTITION__INIT, *ppp = &pp;
    pp.topic = (char *)t->name;
    pp.topic_id.data = (uint8_t *)t->id;
    pp.topic_id.len = 16;
    pp.partition = part;
    pp.records_len = (uint32_t)len;
    req.acks = -1;
    req.timeout_ms = 5000;
    req.n_partitions = 1;
    req.partitions = &ppp;
    struct evbuffer *tail = evbuffer_new();
    evbuffer_add(tail, batches, len);
    rpc_frame *f = call(c, EDDY__METHOD__PRODUCE, mv, &req.base, tail);
    evbuffer_free(tail);
    if (!f)
        return NULL;
    Eddy__ProduceResponse *r =
        (Eddy__ProduceResponse *)rpc_frame_unpack_body(f, &eddy__produce_response__descriptor);
    rpc_frame_unref(f);
    return r;
}

static int produce_status(rpc_client *c, uint64_t mv, const topic_ref *t, int part,
                          const uint8_t *b, size_t len, int64_t *base_offset) {
    Eddy__ProduceResponse *r = produce(c, mv, t, part, b, len);
    if (!r || r->n_partitions != 1) {
        if (r)
            eddy__produce_response__free_unpacked(r, NULL);
        return -1;
    }
    int st = r->partitions[0]->status;
    if (base_offset)
        *base_offset = r->partitions[0]->base_offset;
    eddy__produce_response__free_unpacked(r, NULL);
    return st;
}

static void fetch_req(Eddy__FetchRequest *req, Eddy__FetchPartition *fp,
                      Eddy__FetchPartition **fpp, const topic_ref *t, int part, int64_t off,
                      int max_wait) {
    eddy__fetch_request__init(req);
    eddy__fetch_partition__init(fp);
    fp->topic = (char *)t->name;
    fp->topic_id.data = (uint8_t *)t->id;
    fp->topic_id.len = 16;
    fp->partition = part;
    fp->fetch_offset = off;
    fp->max_bytes = 1 << 20;
    *fpp = fp;
    req->max_wait_ms = max_wait;
    req->min_bytes = 1;
    req->max_bytes = 4 << 20;
    req->n_partitions = 1;
    req->partitions = fpp;
}

static Eddy__FetchResponse *fetch_decode(rpc_frame *f) {
    return f ? (Eddy__FetchResponse *)rpc_frame_unpack_body(f, &eddy__fetch_response__descriptor)
             : NULL;
}

static int64_t list_offset(rpc_client *c, const topic_ref *t, int part, int64_t ts, int *status) {
    Eddy__ListOffsetsRequest req = EDDY__LIST_OFFSETS_REQUEST__INIT;
    Eddy__ListOffsetsPartition lp = EDDY__LIST_OFFSETS_PARTITION__INIT, *lpp = &lp;
    lp.topic = (char *)t->name;
    lp.topic_id.data = (uint8_t *)t->id;
    lp.topic_id.len = 16;
    lp.partition = part;
    lp.timestamp = ts;
    req.n_partitions = 1;
    req.partitions = &lpp;
    rpc_frame *f = call(c, EDDY__METHOD__LIST_OFFSETS, 0, &req.base, NULL);
    Eddy__ListOffsetsResponse *r =
        f ? (Eddy__ListOffsetsResponse *)rpc_frame_unpack_body(
                f, &eddy__list_offsets_response__descriptor)
          : NULL;
    rpc_frame_unref(f);
    if (!r || r->n_partitions != 1) {
        if (r)
            eddy__list_offsets_response__free_unpacked(r, NULL);
        *status = -1;
        return -1;
    }
    *status = r->partitions[0]->status;
    int64_t off = r->partitions[0]->offset;
    eddy__list_offsets_response__free_unpacked(r, NULL);
    return off;
}

static bool topic_ref_from(const Eddy__ClusterMap *m, const char *name, topic_ref *t) {
    const Eddy__TopicInfo *ti = map_topic(m, name);
    if (!ti || ti->topic_id.len != 16)
        return false;
    snprintf(t->name, sizeof t->name, "%s", name);
    memcpy(t->id, ti->topic_id.data, 16);
    return true;
}

static int owner_of(const Eddy__ClusterMap *m, const char *name, int part) {
    const Eddy__TopicInfo *ti = map_topic(m, name);
    for (size_t i = 0; ti && i < ti->n_partitions; i++)
        if (ti->partitions[i]->partition == part)
            return ti->partitions[i]->broker_id;
    return -2;
}

static br_server *start_broker(const char *json) {
    br_config cfg;
    char err[256] = "";
    br_server *s = NULL;
    if (br_config_parse(json, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "config: %s\n", err);
    } else if ((cfg.auto_rebalance = false, br_server_start(&cfg, base, &s)) < 0) {
        /* these tests check placement itself: no moves behind their back */
        s = NULL;
    }
    br_config_free(&cfg);
    return s;
}

static char *addr_of(br_server *s) {
    static char a[64];
    snprintf(a, sizeof a, "127.0.0.1:%d", br_server_port(s));
    return a;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_config(void) {
    br_config c;
    char err[256];
    CHECK(br_config_parse("{\"data_dir\":\"/x\",\"listen\":\"127.0.0.1:1\",\"controller_role\":true}",
                          &c, err, sizeof err) == 0);
    CHECK(c.sync && c.id == -1 && c.map_size_mb == 8192 && c.default_partitions == 1);
    CHECK(c.advertised && !strcmp(c.advertised, "127.0.0.1:1"));
    br_config_free(&c);
    CHECK(br_config_parse("{\"data_dir\":\"/x\",\"listen\":\"127.0.0.1:1\",\"controller_role\":true,"
                          "\"bogus\":1}", &c, err, sizeof err) == -EINVAL);
    CHECK(strstr(err, "bogus") != NULL);
    br_config_free(&c);
    CHECK(br_config_parse("{\"data_dir\":\"/x\",\"listen\":\"0.0.0.0:1\",\"controller_role\":true}",
                          &c, err, sizeof err) == -EINVAL);
    CHECK(strstr(err, "advertised") != NULL);
    br_config_free(&c);
    CHECK(br_config_parse("{\"data_dir\":\"/x\",\"listen\":\"127.0.0.1:1\"}", &c, err,
                          sizeof err) == -EINVAL);
    CHECK(strstr(err, "controller") != NULL);
    br_config_free(&c);
    CHECK(br_config_parse("{\"data_dir\":\"/x\",\"listen\":\"127.0.0.1:1\",\"controller_role\":true,"
                          "\"durability\":\"maybe\"}", &c, err, sizeof err) == -EINVAL);
    br_config_free(&c);
    CHECK(br_config_parse("{\"data_dir\":\"/x\",\"listen\":\"nohost\",\"controller_role\":true}",
                          &c, err, sizeof err) == -EINVAL);
    br_config_free(&c);
    CHECK(br_config_parse("{\"data_dir\":\"/x\",\"listen\":\"127.0.0.1:1\",\"controller\":\"h:2\","
                          "\"id\":3,\"durability\":\"nosync\",\"log_level\":\"debug\","
                          "\"stats_listen\":\"127.0.0.1:9\",\"default_partitions\":4}",
                          &c, err, sizeof err) == 0);
    CHECK(!c.sync && c.id == 3 && c.log_level == EDDY_LOG_DEBUG && c.default_partitions == 4);
    CHECK(c.stats_listen && !strcmp(c.stats_listen, "127.0.0.1:9"));
    br_config_free(&c);
}

static char ctl_json[512], b2_json[512];
static br_server *ctl, *b2;
static rpc_client *cc;  /* client to the controller broker */

static void test_topics(void) {
    CHECK_EQ_INT(create_status(cc, "t1", 2, NULL, NULL), EDDY__STATUS__OK);
    CHECK_EQ_INT(create_status(cc, "t1", 2, NULL, NULL), EDDY__STATUS__TOPIC_EXISTS);
    CHECK_EQ_INT(create_status(cc, "bad name!", 1, NULL, NULL), EDDY__STATUS__INVALID_TOPIC);
    CHECK_EQ_INT(create_status(cc, "..", 1, NULL, NULL), EDDY__STATUS__INVALID_TOPIC);
    CHECK_EQ_INT(create_status(cc, "", 1, NULL, NULL), EDDY__STATUS__INVALID_TOPIC);
    CHECK_EQ_INT(create_status(cc, "t0", 0, NULL, NULL), EDDY__STATUS__INVALID_PARTITIONS);
    CHECK_EQ_INT(create_status(cc, "t0", 10001, NULL, NULL), EDDY__STATUS__INVALID_PARTITIONS);
    CHECK_EQ_INT(create_status(cc, "t0", 1, "retention.ms", "soon"), EDDY__STATUS__INVALID_CONFIG);
    CHECK_EQ_INT(create_status(cc, "t0", 1, "no.such.config", "1"), EDDY__STATUS__INVALID_CONFIG);
    CHECK_EQ_INT(create_status(cc, "t0", 1, "cleanup.policy", "compact,delete"),
                 EDDY__STATUS__OK);
    CHECK_EQ_INT(create_status(cc, "tdef", -1, NULL, NULL), EDDY__STATUS__OK);
    Eddy__TopicResult *v = create_topic(cc, "tvalidate", 3, NULL, NULL, true);
    CHECK(v && v->status == EDDY__STATUS__OK && v->topic && v->topic->n_partitions == 3);
    if (v)
        eddy__topic_result__free_unpacked(v, NULL);

    Eddy__ClusterMap *m = get_map(cc);
    CHECK(m != NULL);
    if (!m)
        return;
    const Eddy__TopicInfo *t1 = map_topic(m, "t1");
    CHECK(t1 && t1->n_partitions == 2 && t1->topic_id.len == 16);
    static const uint8_t zero[16];
    CHECK(t1 && memcmp(t1->topic_id.data, zero, 16) != 0);
    CHECK(t1 && t1->partitions[0]->broker_id == 0 && t1->partitions[1]->epoch == 1);
    const Eddy__TopicInfo *td = map_topic(m, "tdef");
    CHECK(td && td->n_partitions == 2);   /* default_partitions */
    CHECK(map_topic(m, "tvalidate") == NULL);
    CHECK(m->cluster_id && strlen(m->cluster_id) == 22);
    CHECK_EQ_INT(m->controller_id, 0);
    CHECK(m->n_brokers == 1 && m->brokers[0]->alive);
    eddy__cluster_map__free_unpacked(m, NULL);
}

static topic_ref t1;
static uint8_t batch_a[512], batch_b[512];
static size_t len_a, len_b;

static void test_produce_fetch(void) {
    Eddy__ClusterMap *m = get_map(cc);
    CHECK(m && topic_ref_from(m, "t1", &t1));
    uint64_t mv = m ? m->version : 0;
    if (m)
        eddy__cluster_map__free_unpacked(m, NULL);
    len_a = make_batch(batch_a, 1, br_now_ms(), "a");
    len_b = make_batch(batch_b, 3, br_now_ms(), "b");
    int64_t off = -5;
    CHECK_EQ_INT(produce_status(cc, mv, &t1, 0, batch_a, len_a, &off), EDDY__STATUS__OK);
    CHECK_EQ_INT(off, 0);
    CHECK_EQ_INT(produce_status(cc, mv, &t1, 0, batch_b, len_b, &off), EDDY__STATUS__OK);
    CHECK_EQ_INT(off, 1);
    /* framing: a truncated batch, and a tail that does not match records_len */
    CHECK_EQ_INT(produce_status(cc, mv, &t1, 0, batch_a, len_a - 3, NULL),
                 EDDY__STATUS__CORRUPT_BATCH);
    topic_ref nope = {"nope", {1}};
    CHECK_EQ_INT(produce_status(cc, mv, &nope, 0, batch_a, len_a, NULL),
                 EDDY__STATUS__UNKNOWN_PARTITION);
    CHECK_EQ_INT(produce_status(cc, mv, &t1, 7, batch_a, len_a, NULL),
                 EDDY__STATUS__UNKNOWN_PARTITION);

    Eddy__FetchRequest req;
    Eddy__FetchPartition fp, *fpp;
    fetch_req(&req, &fp, &fpp, &t1, 0, 0, 0);
    rpc_frame *f = call(cc, EDDY__METHOD__FETCH, 0, &req.base, NULL);
    Eddy__FetchResponse *r = fetch_decode(f);
    CHECK(r && r->n_partitions == 1);
    if (r && r->n_partitions == 1) {
        Eddy__FetchPartitionResult *pr = r->partitions[0];
        CHECK_EQ_INT(pr->status, EDDY__STATUS__OK);
        CHECK_EQ_INT(pr->high_watermark, 4);
        CHECK_EQ_INT(pr->last_stable_offset, 4);
        CHECK_EQ_INT(pr->log_start_offset, 0);
        CHECK_EQ_INT(pr->records_len, len_a + len_b);
        CHECK_EQ_INT(f->tail_len, len_a + len_b);
        if (f->tail_len == len_a + len_b) {
            CHECK_EQ_INT(get_be64(f->tail), 0);
            CHECK_MEM(f->tail + 8, batch_a + 8, len_a - 8);
            CHECK_EQ_INT(get_be64(f->tail + len_a), 1);
            CHECK_MEM(f->tail + len_a + 8, batch_b + 8, len_b - 8);
        }
    }
    if (r)
        eddy__fetch_response__free_unpacked(r, NULL);
    rpc_frame_unref(f);

    /* out of range */
    fetch_req(&req, &fp, &fpp, &t1, 0, 99, 0);
    f = call(cc, EDDY__METHOD__FETCH, 0, &req.base, NULL);
    r = fetch_decode(f);
    CHECK(r && r->n_partitions == 1 &&
          r->partitions[0]->status == EDDY__STATUS__OFFSET_OUT_OF_RANGE &&
          r->partitions[0]->high_watermark == 4);
    if (r)
        eddy__fetch_response__free_unpacked(r, NULL);
    rpc_frame_unref(f);

    int st;
    CHECK_EQ_INT(list_offset(cc, &t1, 0, -2, &st), 0);
    CHECK_EQ_INT(st, EDDY__STATUS__OK);
    CHECK_EQ_INT(list_offset(cc, &t1, 0, -1, &st), 4);
    CHECK_EQ_INT(list_offset(cc, &t1, 0, -3, &st), 0);  /* equal max ts: the earliest batch */
    CHECK_EQ_INT(list_offset(cc, &t1, 1, -1, &st), 0);  /* never written */
    CHECK_EQ_INT(st, EDDY__STATUS__OK);
    CHECK_EQ_INT(list_offset(cc, &t1, 0, br_now_ms() + 100000, &st), -1);
}

/* A produce fired by a timer, 50 ms after a parked fetch. */
static reply_box late_produce;
static struct evbuffer *late_tail;

static void fire_produce(evutil_socket_t fd, short what, void *arg) {
    Eddy__ProduceRequest req = EDDY__PRODUCE_REQUEST__INIT;
    Eddy__ProducePartition pp = EDDY__PRODUCE_PARTITION__INIT, *ppp = &pp;
    pp.topic = t1.name;
    pp.topic_id.data = t1.id;
    pp.topic_id.len = 16;
    pp.partition = 0;
    pp.records_len = (uint32_t)len_a;
    req.acks = 1;
    req.n_partitions = 1;
    req.partitions = &ppp;
    late_tail = evbuffer_new();
    evbuffer_add(late_tail, batch_a, len_a);
    call_async(cc, EDDY__METHOD__PRODUCE, 0, &req.base, late_tail, &late_produce);
}

static void test_long_poll(void) {
    Eddy__FetchRequest req;
    Eddy__FetchPartition fp, *fpp;
    fetch_req(&req, &fp, &fpp, &t1, 0, 4, 200);
    reply_box fb;
    int64_t t0 = mono();
    CHECK(call_async(cc, EDDY__METHOD__FETCH, 0, &req.base, NULL, &fb) > 0);
    struct event *ev = evtimer_new(base, fire_produce, NULL);
    struct timeval tv = {0, 50000};
    evtimer_add(ev, &tv);
    run_until(&fb.done, 3000);
    CHECK(fb.done && fb.err == 0);
    Eddy__FetchResponse *r = fetch_decode(fb.f);
    CHECK(r && r->n_partitions == 1 && r->partitions[0]->status == EDDY__STATUS__OK);
    CHECK(r && r->n_partitions == 1 && r->partitions[0]->records_len == len_a);
    CHECK(fb.at - t0 >= 40 && fb.at - t0 < 190);
    if (r)
        eddy__fetch_response__free_unpacked(r, NULL);
    rpc_frame_unref(fb.f);
    run_until(&late_produce.done, 3000);
    rpc_frame_unref(late_produce.f);
    evbuffer_free(late_tail);
    event_free(ev);
    CHECK_EQ_INT(br_fetch_parked(ctl), 0);

    /* nothing arrives: answered at the timeout with no data */
    fetch_req(&req, &fp, &fpp, &t1, 0, 5, 150);
    t0 = mono();
    rpc_frame *f = call(cc, EDDY__METHOD__FETCH, 0, &req.base, NULL);
    r = fetch_decode(f);
    CHECK(r && r->n_partitions == 1 && r->partitions[0]->records_len == 0 &&
          r->partitions[0]->high_watermark == 5);
    CHECK(mono() - t0 >= 140);
    if (r)
        eddy__fetch_response__free_unpacked(r, NULL);
    rpc_frame_unref(f);

    /* FETCH_WAKE answers a parked fetch at once */
    fetch_req(&req, &fp, &fpp, &t1, 0, 5, 4000);
    t0 = mono();
    uint64_t id = call_async(cc, EDDY__METHOD__FETCH, 0, &req.base, NULL, &fb);
    CHECK(id > 0);
    /* let it arrive and park */
    int64_t until = mono() + 2000;
    while (br_fetch_parked(ctl) == 0 && mono() < until)
        event_base_loop(base, EVLOOP_ONCE);
    CHECK_EQ_INT(br_fetch_parked(ctl), 1);
    Eddy__FetchWake w = EDDY__FETCH_WAKE__INIT;
    w.fetch_id = id;
    rpc_frame *wf = call(cc, EDDY__METHOD__FETCH_WAKE, 0, &w.base, NULL);
    CHECK(wf && wf->hdr->status == EDDY__STATUS__OK);
    rpc_frame_unref(wf);
    run_until(&fb.done, 1000);
    CHECK(fb.done && fb.err == 0 && fb.at - t0 < 1500);
    r = fetch_decode(fb.f);
    CHECK(r && r->n_partitions == 1 && r->partitions[0]->records_len == 0);
    if (r)
        eddy__fetch_response__free_unpacked(r, NULL);
    rpc_frame_unref(fb.f);
    CHECK_EQ_INT(br_fetch_parked(ctl), 0);
}

static void test_not_owner_and_liveness(void) {
    Eddy__RegisterBroker rb = EDDY__REGISTER_BROKER__INIT;
    rb.id = -1;
    rb.address = "127.0.0.1:1";
    rpc_frame *f = call(cc, EDDY__METHOD__REGISTER_BROKER, 0, &rb.base, NULL);
    Eddy__RegisterResult *rr =
        f ? (Eddy__RegisterResult *)rpc_frame_unpack_body(f, &eddy__register_result__descriptor)
          : NULL;
    CHECK(rr && rr->status == EDDY__STATUS__OK && rr->id == 1);
    if (rr)
        eddy__register_result__free_unpacked(rr, NULL);
    rpc_frame_unref(f);

    /* least-loaded placement fills the empty broker first: with more
     * partitions than broker 0 already holds, both get some */
    CHECK_EQ_INT(create_status(cc, "t2", 64, NULL, NULL), EDDY__STATUS__OK);
    Eddy__ClusterMap *m = get_map(cc);
    topic_ref t2;
    CHECK(m && topic_ref_from(m, "t2", &t2));
    int on0 = -1, on1 = -1;
    for (int p = 0; p < 64; p++) {
        int o = owner_of(m, "t2", p);
        if (o == 0)
            on0 = p;
        if (o == 1)
            on1 = p;
    }
    CHECK(on0 >= 0 && on1 >= 0);
    uint64_t mv = m ? m->version : 0;
    if (m)
        eddy__cluster_map__free_unpacked(m, NULL);
    if (on1 >= 0)
        CHECK_EQ_INT(produce_status(cc, mv, &t2, on1, batch_a, len_a, NULL),
                     EDDY__STATUS__NOT_OWNER);
    if (on0 >= 0)
        CHECK_EQ_INT(produce_status(cc, mv, &t2, on0, batch_a, len_a, NULL), EDDY__STATUS__OK);

    /* the fake broker never heartbeats: dead after 10 s (simulated) */
    br_controller_tick(ctl->ctl, br_mono_ms() + BR_CONTROLLER_DEAD_MS + 1000);
    m = get_map(cc);
    bool dead = false;
    for (size_t i = 0; m && i < m->n_brokers; i++)
        if (m->brokers[i]->id == 1)
            dead = !m->brokers[i]->alive;
    CHECK(dead);
    if (m) {
        CHECK(m->version > mv);
        eddy__cluster_map__free_unpacked(m, NULL);
    }
    /* new topics avoid dead brokers */
    CHECK_EQ_INT(create_status(cc, "t-alive", 4, NULL, NULL), EDDY__STATUS__OK);
    m = get_map(cc);
    for (int p = 0; p < 4; p++)
        CHECK_EQ_INT(owner_of(m, "t-alive", p), 0);
    if (m)
        eddy__cluster_map__free_unpacked(m, NULL);
}

static int create_partitions(const char *name, int count, int *nparts) {
    Eddy__CreatePartitionsRequest req = EDDY__CREATE_PARTITIONS_REQUEST__INIT;
    req.name = (char *)name;
    req.count = count;
    rpc_frame *f = call(cc, EDDY__METHOD__CREATE_PARTITIONS, 0, &req.base, NULL);
    Eddy__TopicResult *r =
        f ? (Eddy__TopicResult *)rpc_frame_unpack_body(f, &eddy__topic_result__descriptor) : NULL;
    rpc_frame_unref(f);
    if (!r)
        return -1;
    int st = r->status;
    *nparts = r->topic ? (int)r->topic->n_partitions : -1;
    eddy__topic_result__free_unpacked(r, NULL);
    return st;
}

static void test_create_partitions(void) {
    int n = 0;
    CHECK_EQ_INT(create_partitions("t-alive", 4, &n), EDDY__STATUS__INVALID_PARTITIONS);
    CHECK_EQ_INT(create_partitions("t-alive", 10001, &n), EDDY__STATUS__INVALID_PARTITIONS);
    CHECK_EQ_INT(create_partitions("no-such", 8, &n), EDDY__STATUS__UNKNOWN_PARTITION);
    CHECK_EQ_INT(create_partitions("t-alive", 6, &n), EDDY__STATUS__OK);
    CHECK_EQ_INT(n, 6);
    Eddy__ClusterMap *m = get_map(cc);
    topic_ref t;
    CHECK(m && topic_ref_from(m, "t-alive", &t));
    CHECK_EQ_INT(owner_of(m, "t-alive", 5), 0);
    if (m)
        eddy__cluster_map__free_unpacked(m, NULL);
    CHECK_EQ_INT(produce_status(cc, 0, &t, 5, batch_a, len_a, NULL), EDDY__STATUS__OK);
}

static void test_second_broker(void) {
    snprintf(b2_json, sizeof b2_json,
             "{\"data_dir\":\"%s/b2\",\"listen\":\"127.0.0.1:0\",\"controller\":\"%s\","
             "\"durability\":\"nosync\",\"map_size_mb\":64}",
             tmpdir, addr_of(ctl));
    b2 = start_broker(b2_json);
    CHECK(b2 != NULL);
    if (!b2)
        return;
    int64_t until = mono() + 5000;
    while ((b2->self_id < 0 || br_map_version(b2->map) == 0) && mono() < until)
        event_base_loop(base, EVLOOP_ONCE);
    CHECK_EQ_INT(b2->self_id, 2);
    CHECK(br_map_version(b2->map) > 0);

    rpc_client *c2 = rpc_client_new(base, addr_of(b2), NULL);
    Eddy__TopicResult *tr = create_topic(cc, "t3", 200, NULL, NULL, false);
    CHECK(tr && tr->status == EDDY__STATUS__OK && tr->topic);
    uint64_t mv = tr ? tr->map_version : 0;
    int on2 = -1, on0 = -1;
    topic_ref t3 = {"t3", {0}};
    if (tr && tr->topic) {
        memcpy(t3.id, tr->topic->topic_id.data, 16);
        for (size_t i = 0; i < tr->topic->n_partitions; i++) {
            if (tr->topic->partitions[i]->broker_id == 2)
                on2 = tr->topic->partitions[i]->partition;
            if (tr->topic->partitions[i]->broker_id == 0)
                on0 = tr->topic->partitions[i]->partition;
        }
    }
    if (tr)
        eddy__topic_result__free_unpacked(tr, NULL);
    CHECK(on2 >= 0 && on0 >= 0);
    /* b2 has not pulled the new map yet: the request's newer map version
     * makes it refresh first, so it serves instead of UNKNOWN_PARTITION */
    CHECK(br_map_version(b2->map) < mv);
    int64_t off = -1;
    if (on2 >= 0)
        CHECK_EQ_INT(produce_status(c2, mv, &t3, on2, batch_a, len_a, &off), EDDY__STATUS__OK);
    CHECK_EQ_INT(off, 0);
    CHECK(br_map_version(b2->map) >= mv);
    if (on0 >= 0)
        CHECK_EQ_INT(produce_status(c2, mv, &t3, on0, batch_a, len_a, NULL),
                     EDDY__STATUS__NOT_OWNER);
    if (on2 >= 0)
        CHECK_EQ_INT(produce_status(cc, mv, &t3, on2, batch_a, len_a, NULL),
                     EDDY__STATUS__NOT_OWNER);
    /* non-controllers refuse catalog methods */
    Eddy__GetMapRequest gm = EDDY__GET_MAP_REQUEST__INIT;
    rpc_frame *f = call(c2, EDDY__METHOD__GET_MAP, 0, &gm.base, NULL);
    CHECK(f && f->hdr->status == EDDY__STATUS__NOT_CONTROLLER);
    rpc_frame_unref(f);
    rpc_client_free(c2);
}

static void test_delete(void) {
    br_part *p = NULL;
    CHECK_EQ_INT(br_plog_open(ctl->store, t1.id, 0, false, &p), 0);
    Eddy__DeleteTopicRequest dr = EDDY__DELETE_TOPIC_REQUEST__INIT;
    dr.topic_id.data = t1.id;
    dr.topic_id.len = 16;
    rpc_frame *f = call(cc, EDDY__METHOD__DELETE_TOPIC, 0, &dr.base, NULL);
    Eddy__TopicResult *r =
        f ? (Eddy__TopicResult *)rpc_frame_unpack_body(f, &eddy__topic_result__descriptor) : NULL;
    CHECK(r && r->status == EDDY__STATUS__OK);
    if (r)
        eddy__topic_result__free_unpacked(r, NULL);
    rpc_frame_unref(f);
    f = call(cc, EDDY__METHOD__DELETE_TOPIC, 0, &dr.base, NULL);
    r = f ? (Eddy__TopicResult *)rpc_frame_unpack_body(f, &eddy__topic_result__descriptor) : NULL;
    CHECK(r && r->status == EDDY__STATUS__UNKNOWN_PARTITION);
    if (r)
        eddy__topic_result__free_unpacked(r, NULL);
    rpc_frame_unref(f);
    Eddy__ClusterMap *m = get_map(cc);
    CHECK(m && !map_topic(m, "t1"));
    if (m)
        eddy__cluster_map__free_unpacked(m, NULL);
    /* reconcile drops the data once earlier commits are through */
    int rc = 0;
    int64_t until = mono() + 3000;
    while ((rc = br_plog_open(ctl->store, t1.id, 0, false, &p)) == 0 && mono() < until)
        event_base_loop(base, EVLOOP_ONCE);
    CHECK_EQ_INT(rc, -ENOENT);
    int st;
    list_offset(cc, &t1, 0, -1, &st);
    CHECK_EQ_INT(st, EDDY__STATUS__UNKNOWN_PARTITION);
}

static void test_retention(void) {
    CHECK_EQ_INT(create_status(cc, "tret", 1, "retention.ms", "60000"), EDDY__STATUS__OK);
    Eddy__ClusterMap *m = get_map(cc);
    topic_ref tr;
    CHECK(m && topic_ref_from(m, "tret", &tr));
    int owner = owner_of(m, "tret", 0);
    if (m)
        eddy__cluster_map__free_unpacked(m, NULL);
    CHECK_EQ_INT(owner, 0);   /* the only alive broker */
    uint8_t old[512];
    size_t lo = make_batch(old, 2, 1000, "old");   /* 1970: long expired */
    int64_t off;
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(produce_status(cc, 0, &tr, 0, old, lo, &off), EDDY__STATUS__OK);
    CHECK_EQ_INT(off, 4);
    CHECK_EQ_INT(br_retention_run(ctl, br_now_ms()), 1);
    int st;
    int64_t until = mono() + 3000, start = 0;
    while ((start = list_offset(cc, &tr, 0, -2, &st)) == 0 && mono() < until)
        event_base_loop(base, EVLOOP_ONCE);
    CHECK_EQ_INT(start, 4);   /* the newest batch is kept */
    CHECK_EQ_INT(list_offset(cc, &tr, 0, -1, &st), 6);
    CHECK_EQ_INT(br_retention_run(ctl, br_now_ms()), 0);
}

static topic_ref tdef;
static void produce_tdef(void) {
    Eddy__ClusterMap *m = get_map(cc);
    CHECK(m && topic_ref_from(m, "tdef", &tdef));
    if (m)
        eddy__cluster_map__free_unpacked(m, NULL);
    CHECK_EQ_INT(produce_status(cc, 0, &tdef, 0, batch_b, len_b, NULL), EDDY__STATUS__OK);
}

static void test_restart(void) {
    Eddy__ClusterMap *before = get_map(cc);
    rpc_client_free(cc);
    cc = NULL;
    br_server_stop(b2);
    b2 = NULL;
    br_server_stop(ctl);
    ctl = start_broker(ctl_json);
    CHECK(ctl != NULL);
    if (!ctl)
        return;
    CHECK_EQ_INT(ctl->self_id, 0);
    cc = rpc_client_new(base, addr_of(ctl), NULL);
    Eddy__ClusterMap *after = get_map(cc);
    CHECK(before && after);
    if (before && after) {
        CHECK(!strcmp(before->cluster_id, after->cluster_id));
        CHECK(after->version >= before->version);
        CHECK_EQ_INT(after->n_topics, before->n_topics);
        const Eddy__TopicInfo *a = map_topic(after, "tdef"), *b = map_topic(before, "tdef");
        CHECK(a && b && !memcmp(a->topic_id.data, b->topic_id.data, 16));
        CHECK(after->n_brokers == 3);
    }
    if (before)
        eddy__cluster_map__free_unpacked(before, NULL);
    if (after)
        eddy__cluster_map__free_unpacked(after, NULL);
    Eddy__FetchRequest req;
    Eddy__FetchPartition fp, *fpp;
    fetch_req(&req, &fp, &fpp, &tdef, 0, 0, 0);
    rpc_frame *f = call(cc, EDDY__METHOD__FETCH, 0, &req.base, NULL);
    Eddy__FetchResponse *r = fetch_decode(f);
    CHECK(r && r->n_partitions == 1 && r->partitions[0]->status == EDDY__STATUS__OK &&
          r->partitions[0]->high_watermark == 3 && f->tail_len == len_b);
    if (f && f->tail_len == len_b)
        CHECK_MEM(f->tail + 8, batch_b + 8, len_b - 8);
    if (r)
        eddy__fetch_response__free_unpacked(r, NULL);
    rpc_frame_unref(f);

    /* the second broker keeps its id */
    b2 = start_broker(b2_json);
    CHECK(b2 && b2->self_id == 2);
}

int main(void) {
    evthread_use_pthreads();
    eddy_log_init_from_env();
    base = event_base_new();
    struct event *ticker = event_new(base, -1, EV_PERSIST, on_ticker, NULL);
    struct timeval tick = {0, 10000};
    event_add(ticker, &tick);
    if (!unit_tmpdir(tmpdir, sizeof tmpdir, "broker-test"))
        return 1;
    RUN(test_config);
    snprintf(ctl_json, sizeof ctl_json,
             "{\"data_dir\":\"%s/ctl\",\"listen\":\"127.0.0.1:0\",\"controller_role\":true,"
             "\"durability\":\"nosync\",\"map_size_mb\":64,\"default_partitions\":2}",
             tmpdir);
    ctl = start_broker(ctl_json);
    CHECK(ctl != NULL);
    if (!ctl)
        return unit_done();
    cc = rpc_client_new(base, addr_of(ctl), NULL);
    RUN(test_topics);
    RUN(test_produce_fetch);
    RUN(test_long_poll);
    RUN(produce_tdef);
    RUN(test_not_owner_and_liveness);
    RUN(test_create_partitions);
    RUN(test_retention);
    RUN(test_second_broker);
    RUN(test_delete);
    RUN(test_restart);
    rpc_client_free(cc);
    br_server_stop(b2);
    br_server_stop(ctl);
    event_free(ticker);
    event_base_free(base);
    unit_tmpdir_remove(tmpdir);
    return unit_done();
}
