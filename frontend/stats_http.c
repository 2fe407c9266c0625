/* stats_http.c — the frontend's HTTP endpoint (GET /stats, /metrics,
 * /healthz, /readyz), on worker 0's event loop.
 *
 * Threading: the listening socket is bound on the caller's (main) thread so
 * that a bad address fails the start synchronously; the evhttp object is then
 * created, used and freed only on worker 0's thread (start and stop run a
 * task there and wait for it). Everything in a scrape (the route, its RPC
 * clients, the timer) therefore belongs to worker 0 and needs no lock. The
 * other workers' counters are read with relaxed atomic loads (stats.h).
 *
 * A scrape of /stats or /metrics:
 *   1. snapshot the summed counters and the cluster map of worker 0 into a
 *      JSON document whose partition entries hold null offsets;
 *   2. send one LIST_OFFSETS per alive broker, two entries per partition it
 *      owns (timestamp -2 for the log start, -1 for the high watermark);
 *   3. fill the entries as replies arrive; when the last one is in, or after
 *      SCRAPE_TIMEOUT_MS, render JSON or Prometheus text and reply. Any
 *      partition left without offsets marks the answer "stale".
 * evhttp lets us reply late; a client that hung up meanwhile is handled by
 * evhttp (the detached request is freed by evhttp_send_reply). */
#include "stats_http.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>

#include "fe.h"
#include "fetch_ahead.h"
#include "http_auth.h"
#include "group_place.h"
#include "kafka_consumer_protocol.h"
#include "kafka_describegroups.h"
#include "kafka_listgroups.h"
#include "kafka_offsetfetch.h"
#include "log.h"
#include "netaddr.h"
#include "route.h"
#include "stats.h"
#include "worker.h"

#define SCRAPE_TIMEOUT_MS 2000
#define MAX_SCRAPES 32          /* concurrent /stats + /metrics in flight */
#define TASK_WAIT_S 5           /* start/stop wait for worker 0 this long */
/* Kafka versions of the group requests the stats send (GROUP RPC): ListGroups
 * v4 has states; DescribeGroups v5 and OffsetFetch v8 take many groups. */
#define STATS_LISTGROUPS_V 4
#define STATS_DESCRIBEGROUPS_V 5
#define STATS_OFFSETFETCH_V 8

/* ---- counters snapshot ------------------------------------------------------ */

typedef struct api_ctr {
    uint64_t requests, errors, sum_us;
    uint64_t lat[FE_LAT_BUCKETS];
} api_ctr;

/* All workers' counters, summed. */
typedef struct fe_counters {
    uint64_t connections_total;
    uint64_t connections_refused; /* over max_connections(_per_ip) */
    int64_t connections_open[FE_MAX_LISTENERS];
    uint64_t bytes_in, bytes_out, records_in, records_out, glitches, auth_failures;
    api_ctr api[KAFKA_API_KEY_MAX];
    int64_t policy_open[FE_MAX_POLICIES];
    uint64_t policy_total[FE_MAX_POLICIES];
    uint64_t at_ns;              /* when summed */
} fe_counters;

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void counters_sum(fe_workers *ws, fe_counters *c) {
    memset(c, 0, sizeof *c);
    c->at_ns = fe_now_ns();
    c->connections_refused = fe_workers_refused(ws);
    int n = fe_workers_count(ws);
    for (int i = 0; i < n; i++) {
        fe_stats *s = fe_workers_get(ws, i)->stats;
        if (!s)
            continue;
        c->connections_total += LOAD(s->connections_total);
        for (int l = 0; l < FE_MAX_LISTENERS; l++)
            c->connections_open[l] += LOAD(s->connections_open[l]);
        c->bytes_in += LOAD(s->bytes_in);
        c->bytes_out += LOAD(s->bytes_out);
        c->records_in += LOAD(s->records_in);
        c->records_out += LOAD(s->records_out);
        c->glitches += LOAD(s->glitches);
        c->auth_failures += LOAD(s->auth_failures);
        for (int p = 0; p < FE_MAX_POLICIES; p++) {
            c->policy_open[p] += LOAD(s->policy_open[p]);
            c->policy_total[p] += LOAD(s->policy_total[p]);
        }
        for (int k = 0; k < KAFKA_API_KEY_MAX; k++) {
            fe_api_stats *a = &s->api[k];
            api_ctr *o = &c->api[k];
            o->requests += LOAD(a->requests);
            o->errors += LOAD(a->errors);
            o->sum_us += LOAD(a->latency_sum_us);
            for (int b = 0; b < FE_LAT_BUCKETS; b++)
                o->lat[b] += LOAD(a->latency_us[b]);
        }
    }
}

/* Upper bound in microseconds of latency bucket @p b (see stats.h). */
static uint64_t bucket_upper_us(int b) { return (uint64_t)1 << (b + 1); }

/* The @p q quantile of a log2 histogram, as the upper bound of the bucket that
 * holds it: exact to a factor of two. 0 when the histogram is empty. */
static uint64_t lat_quantile(const api_ctr *a, double q) {
    uint64_t total = 0;
    for (int b = 0; b < FE_LAT_BUCKETS; b++)
        total += a->lat[b];
    if (!total)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (int b = 0; b < FE_LAT_BUCKETS; b++) {
        seen += a->lat[b];
        if (seen >= rank)
            return bucket_upper_us(b);
    }
    return bucket_upper_us(FE_LAT_BUCKETS - 1);
}

/* ---- rates: periodic snapshots of the traffic counters --------------------------- */

#define TICK_MS 1000            /* snapshots and RTT probes */
#define RATE_WINDOW_S 10        /* rates over the last 10 s */
#define RATE_SNAPS (RATE_WINDOW_S + 2)

typedef struct traffic {
    uint64_t at_ns;
    uint64_t bytes_in, bytes_out, records_in, records_out;
} traffic;

static void traffic_now(fe_workers *ws, traffic *t) {
    memset(t, 0, sizeof *t);
    t->at_ns = fe_now_ns();
    int n = fe_workers_count(ws);
    for (int i = 0; i < n; i++) {
        fe_stats *s = fe_workers_get(ws, i)->stats;
        if (!s)
            continue;
        t->bytes_in += LOAD(s->bytes_in);
        t->bytes_out += LOAD(s->bytes_out);
        t->records_in += LOAD(s->records_in);
        t->records_out += LOAD(s->records_out);
    }
}

/* ---- RPC round trips per broker ------------------------------------------------------ */

#define RTT_SAMPLES 256         /* newest round trips kept per broker */
#define PROBE_TIMEOUT_MS 2000

/* One broker's round-trip samples (microseconds, a ring) and its probe: an
 * empty LIST_OFFSETS sent every TICK_MS on worker 0's connection. */
typedef struct rtt_ent {
    struct fe_stats_http *s;
    int32_t broker_id;
    uint32_t n, pos;
    uint32_t us[RTT_SAMPLES];
    rpc_client *probe_client;    /* NULL when no probe is in flight */
    uint64_t probe_id, probe_sent_ns;
} rtt_ent;

/* ---- the endpoint ------------------------------------------------------------ */

typedef struct scrape scrape;

struct fe_stats_http {
    const fe_config *conf;
    fe_workers *workers;
    fe_worker *w0;
    evutil_socket_t fd;          /* bound on the main thread, then owned by http */
    struct evhttp *http;         /* worker 0 only */
    uint64_t started_ns;
    LIST_HEAD(, scrape) scrapes; /* in flight; worker 0 only */
    int n_scrapes;
    struct event *tick;          /* worker 0: traffic snapshots, RTT probes */
    traffic snaps[RATE_SNAPS];   /* ring, newest at snap_pos - 1 */
    int snap_pos, n_snaps;
    rtt_ent **rtt;               /* per broker seen; worker 0 only */
    size_t n_rtt;
    /* a task run on worker 0 by start/stop */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool task_done;
    int task_result;
};

enum scrape_fmt { FMT_JSON, FMT_PROM };

typedef struct scrape_call {
    scrape *sc;
    rpc_client *client;          /* NULL once answered */
    uint64_t id;
    int32_t broker_id;
    size_t n;                    /* partitions asked (2 entries each) */
    json_t **parts;              /* borrowed: partition objects inside sc->doc */
    json_t *jb;                  /* borrowed: the broker object inside sc->doc */
    uint64_t sent_ns;
} scrape_call;

/* Groups: one coordinator per broker owning partitions of __consumer_offsets.
 * It is asked ListGroups, then DescribeGroups and OffsetFetch for all the
 * groups it listed (one RPC each). */
typedef struct scrape_coord scrape_coord;

typedef struct coord_call {
    scrape_coord *co;
    rpc_client *client;          /* NULL once answered (or never sent) */
    uint64_t id;
} coord_call;

typedef struct coord_group {
    char *id;                    /* raw group id bytes (owned) */
    size_t len;
    json_t *g;                   /* borrowed: the group object in sc->doc */
    bool described, fetched;     /* the answers arrived without error */
} coord_group;

struct scrape_coord {
    scrape *sc;
    int32_t broker_id;
    coord_call list, desc, fetch;
    coord_group *groups;
    size_t n_groups;
};

struct scrape {
    fe_stats_http *s;
    struct evhttp_request *req;
    enum scrape_fmt fmt;
    json_t *doc;                 /* brokers, topics, groups, ... */
    fe_counters *ctr;
    scrape_call *calls;
    size_t n_calls;
    scrape_coord *coords;
    size_t n_coords;
    uint64_t deadline_ns;        /* the scrape answers by then */
    int outstanding;
    bool stale;
    struct event *timer;
    LIST_ENTRY(scrape) link;
};

static void reply_text(struct evhttp_request *req, int code, const char *reason,
                       const char *ctype, const char *body) {
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evhttp_send_reply(req, code, reason, b);
    evbuffer_free(b);
}

/* ---- RTT samples and traffic rates (worker 0) ----------------------------------- */

/* The entry of broker @p id; with @p create a new one when missing (NULL on
 * OOM or when absent). */
static rtt_ent *rtt_find(fe_stats_http *s, int32_t id, bool create) {
    for (size_t i = 0; i < s->n_rtt; i++)
        if (s->rtt[i]->broker_id == id)
            return s->rtt[i];
    if (!create)
        return NULL;
    rtt_ent **na = realloc(s->rtt, (s->n_rtt + 1) * sizeof *na);
    if (!na)
        return NULL;
    s->rtt = na;
    rtt_ent *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->s = s;
    e->broker_id = id;
    s->rtt[s->n_rtt++] = e;
    return e;
}

static void rtt_record(fe_stats_http *s, int32_t id, uint64_t sent_ns) {
    rtt_ent *e = rtt_find(s, id, true);
    if (!e)
        return;
    uint64_t us = (fe_now_ns() - sent_ns) / 1000u;
    e->us[e->pos] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    e->pos = (e->pos + 1) % RTT_SAMPLES;
    if (e->n < RTT_SAMPLES)
        e->n++;
}

static int u32_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* p50 and p99 (nearest rank) of broker @p id's samples; false when none. */
static bool rtt_quantiles(fe_stats_http *s, int32_t id, uint32_t *p50, uint32_t *p99,
                          uint32_t *n) {
    rtt_ent *e = rtt_find(s, id, false);
    if (!e || !e->n)
        return false;
    uint32_t v[RTT_SAMPLES];
    memcpy(v, e->us, e->n * sizeof v[0]);
    qsort(v, e->n, sizeof v[0], u32_cmp);
    uint32_t r50 = (uint32_t)ceil(0.50 * e->n), r99 = (uint32_t)ceil(0.99 * e->n);
    *p50 = v[(r50 ? r50 : 1) - 1];
    *p99 = v[(r99 ? r99 : 1) - 1];
    *n = e->n;
    return true;
}

static json_t *rtt_json(fe_stats_http *s, int32_t id) {
    uint32_t p50, p99, n;
    if (!rtt_quantiles(s, id, &p50, &p99, &n))
        return json_null();
    return json_pack("{s:I, s:I, s:I}", "p50", (json_int_t)p50, "p99", (json_int_t)p99,
                     "samples", (json_int_t)n);
}

/* The snapshot to compute rates against: the oldest at most RATE_WINDOW_S
 * (plus half a tick) before @p now_ns, else the newest. NULL when none. */
static const traffic *rate_base(const fe_stats_http *s, uint64_t now_ns) {
    const traffic *best = NULL;
    for (int k = 0; k < s->n_snaps; k++) {
        /* from the oldest to the newest */
        const traffic *t = &s->snaps[(s->snap_pos - s->n_snaps + k + RATE_SNAPS) % RATE_SNAPS];
        if (t->at_ns >= now_ns)
            break;
        best = t;
        if (now_ns - t->at_ns <= (uint64_t)RATE_WINDOW_S * 1000000000u + TICK_MS * 500000u)
            break;
    }
    return best;
}

static double per_s(uint64_t now, uint64_t then, double dt) {
    return now >= then ? (double)(now - then) / dt : 0.0;
}

typedef struct rates {
    double window_s, bytes_in, bytes_out, records_in, records_out;
} rates;

static bool rates_get(const fe_stats_http *s, const fe_counters *c, rates *r) {
    const traffic *t = rate_base(s, c->at_ns);
    if (!t || c->at_ns - t->at_ns < 1000000u)
        return false;
    double dt = (double)(c->at_ns - t->at_ns) / 1e9;
    r->window_s = dt;
    r->bytes_in = per_s(c->bytes_in, t->bytes_in, dt);
    r->bytes_out = per_s(c->bytes_out, t->bytes_out, dt);
    r->records_in = per_s(c->records_in, t->records_in, dt);
    r->records_out = per_s(c->records_out, t->records_out, dt);
    return true;
}

/* ---- rendering: JSON ---------------------------------------------------------- */

static json_t *frontend_json(const fe_stats_http *s, const fe_counters *c) {
    json_t *fe = json_object();
    json_t *open = json_object();
    json_t *reqs = json_object();
    json_t *errs = json_object();
    json_t *lat = json_object();
    if (!fe || !open || !reqs || !errs || !lat) {
        json_decref(fe);
        json_decref(open);
        json_decref(reqs);
        json_decref(errs);
        json_decref(lat);
        return NULL;
    }
    for (int l = 0; l < s->conf->n_listeners && l < FE_MAX_LISTENERS; l++)
        json_object_set_new(open, s->conf->listeners[l].name,
                            json_integer((json_int_t)c->connections_open[l]));
    for (int k = 0; k < KAFKA_API_KEY_MAX; k++) {
        const api_ctr *a = &c->api[k];
        const char *name = kafka_api_name((int16_t)k);
        if (!name || (!a->requests && !a->errors))
            continue;
        json_object_set_new(reqs, name, json_integer((json_int_t)a->requests));
        json_object_set_new(errs, name, json_integer((json_int_t)a->errors));
        json_object_set_new(lat, name,
                            json_pack("{s:I, s:I, s:I}", "p50", (json_int_t)lat_quantile(a, 0.50),
                                      "p99", (json_int_t)lat_quantile(a, 0.99), "p999",
                                      (json_int_t)lat_quantile(a, 0.999)));
    }
    json_object_set_new(fe, "connections_total", json_integer((json_int_t)c->connections_total));
    json_object_set_new(fe, "connections_open", open);
    json_object_set_new(fe, "connections_refused",
                        json_integer((json_int_t)c->connections_refused));
    json_object_set_new(fe, "requests", reqs);
    json_object_set_new(fe, "errors", errs);
    json_object_set_new(fe, "latency_us", lat);
    json_object_set_new(fe, "bytes_in", json_integer((json_int_t)c->bytes_in));
    json_object_set_new(fe, "bytes_out", json_integer((json_int_t)c->bytes_out));
    json_object_set_new(fe, "records_in", json_integer((json_int_t)c->records_in));
    json_object_set_new(fe, "records_out", json_integer((json_int_t)c->records_out));
    json_object_set_new(fe, "fetch_ahead_hits", json_integer((json_int_t)fe_fetch_ahead_hits()));
    json_object_set_new(fe, "fetch_ahead_misses",
                        json_integer((json_int_t)fe_fetch_ahead_misses()));
    json_object_set_new(fe, "glitches", json_integer((json_int_t)c->glitches));
    json_object_set_new(fe, "auth_failures", json_integer((json_int_t)c->auth_failures));
    json_object_set_new(fe, "uptime_s",
                        json_integer((json_int_t)((fe_now_ns() - s->started_ns) / 1000000000u)));
    json_t *pol = json_object();
    for (int p = 0; pol && p < s->conf->n_policies && p < FE_MAX_POLICIES; p++)
        json_object_set_new(pol, s->conf->policies[p].name,
                            json_pack("{s:I, s:I}", "open", (json_int_t)c->policy_open[p],
                                      "total", (json_int_t)c->policy_total[p]));
    json_object_set_new(fe, "connections_by_policy", pol ? pol : json_object());
    rates r;
    if (rates_get(s, c, &r))
        json_object_set_new(fe, "rates",
                            json_pack("{s:f, s:f, s:f, s:f, s:f}", "window_s", r.window_s,
                                      "bytes_in_per_s", r.bytes_in, "bytes_out_per_s",
                                      r.bytes_out, "records_in_per_s", r.records_in,
                                      "records_out_per_s", r.records_out));
    else
        json_object_set_new(fe, "rates", json_null());
    return fe;
}

static int render_json(scrape *sc, struct evbuffer *out) {
    json_t *fe = frontend_json(sc->s, sc->ctr);
    if (!fe)
        return -ENOMEM;
    json_object_set_new(sc->doc, "frontend", fe);
    json_object_set_new(sc->doc, "stale", json_boolean(sc->stale));
    char *text = json_dumps(sc->doc, JSON_COMPACT);
    if (!text)
        return -ENOMEM;
    int r = evbuffer_add(out, text, strlen(text));
    free(text);
    if (r == 0)
        r = evbuffer_add(out, "\n", 1);
    return r < 0 ? -ENOMEM : 0;
}

/* ---- rendering: Prometheus text format 0.0.4 ---------------------------------- */

/* Append @p v as a label value: backslash, double quote and newline escaped. */
static void prom_label(struct evbuffer *o, const char *v) {
    for (; *v; v++) {
        if (*v == '\\')
            evbuffer_add(o, "\\\\", 2);
        else if (*v == '"')
            evbuffer_add(o, "\\\"", 2);
        else if (*v == '\n')
            evbuffer_add(o, "\\n", 2);
        else
            evbuffer_add(o, v, 1);
    }
}

static void prom_head(struct evbuffer *o, const char *name, const char *type, const char *help) {
    evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_scalar(struct evbuffer *o, const char *name, const char *type, const char *help,
                        uint64_t v) {
    prom_head(o, name, type, help);
    evbuffer_add_printf(o, "%s %" PRIu64 "\n", name, v);
}

static void prom_api_counter(struct evbuffer *o, const fe_counters *c, const char *name,
                             const char *help, bool errors) {
    prom_head(o, name, "counter", help);
    for (int k = 0; k < KAFKA_API_KEY_MAX; k++) {
        const api_ctr *a = &c->api[k];
        const char *api = kafka_api_name((int16_t)k);
        if (!api || (!a->requests && !a->errors))
            continue;
        evbuffer_add_printf(o, "%s{api=\"", name);
        prom_label(o, api);
        evbuffer_add_printf(o, "\"} %" PRIu64 "\n", errors ? a->errors : a->requests);
    }
}

static void prom_latency(struct evbuffer *o, const fe_counters *c) {
    const char *h = "eddy_frontend_request_latency_microseconds";
    prom_head(o, h, "histogram",
              "Request latency in microseconds, log2 buckets (resolution: a factor of 2).");
    for (int k = 0; k < KAFKA_API_KEY_MAX; k++) {
        const api_ctr *a = &c->api[k];
        const char *api = kafka_api_name((int16_t)k);
        if (!api || (!a->requests && !a->errors))
            continue;
        uint64_t cum = 0;
        for (int b = 0; b < FE_LAT_BUCKETS - 1; b++) {
            cum += a->lat[b];
            evbuffer_add_printf(o, "%s_bucket{api=\"%s\",le=\"%" PRIu64 "\"} %" PRIu64 "\n", h,
                                api, bucket_upper_us(b), cum);
        }
        cum += a->lat[FE_LAT_BUCKETS - 1];
        evbuffer_add_printf(o, "%s_bucket{api=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", h, api, cum);
        evbuffer_add_printf(o, "%s_sum{api=\"%s\"} %" PRIu64 "\n", h, api, a->sum_us);
        evbuffer_add_printf(o, "%s_count{api=\"%s\"} %" PRIu64 "\n", h, api, cum);
    }
    const char *q = "eddy_frontend_request_latency_quantile_microseconds";
    prom_head(o, q, "gauge",
              "Latency quantiles in microseconds: upper bound of the log2 bucket holding them.");
    static const struct {
        const char *label;
        double q;
    } qs[] = {{"0.5", 0.5}, {"0.99", 0.99}, {"0.999", 0.999}};
    for (int k = 0; k < KAFKA_API_KEY_MAX; k++) {
        const api_ctr *a = &c->api[k];
        const char *api = kafka_api_name((int16_t)k);
        if (!api || (!a->requests && !a->errors))
            continue;
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
            evbuffer_add_printf(o, "%s{api=\"%s\",quantile=\"%s\"} %" PRIu64 "\n", q, api,
                                qs[i].label, lat_quantile(a, qs[i].q));
    }
}

/* One gauge per partition from the document's topics, for @p field. */
static void prom_partitions(struct evbuffer *o, json_t *topics, const char *name,
                            const char *field, const char *help) {
    prom_head(o, name, "gauge", help);
    const char *tname;
    json_t *t;
    json_object_foreach(topics, tname, t) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(t, "partitions"), i, p) {
            json_t *v = json_object_get(p, field);
            if (!json_is_integer(v))
                continue; /* unknown (stale): no sample rather than a fake one */
            evbuffer_add_printf(o, "%s{topic=\"", name);
            prom_label(o, tname);
            evbuffer_add_printf(o, "\",partition=\"%" JSON_INTEGER_FORMAT "\"} %" JSON_INTEGER_FORMAT
                                   "\n",
                                json_integer_value(json_object_get(p, "partition")),
                                json_integer_value(v));
        }
    }
}

static int render_prom(scrape *sc, struct evbuffer *o) {
    const fe_counters *c = sc->ctr;
    const fe_config *conf = sc->s->conf;
    prom_scalar(o, "eddy_frontend_uptime_seconds", "gauge", "Seconds since the frontend started.",
                (fe_now_ns() - sc->s->started_ns) / 1000000000u);
    prom_scalar(o, "eddy_frontend_connections_total", "counter",
                "Client connections accepted since start.", c->connections_total);
    prom_scalar(o, "eddy_frontend_connections_refused_total", "counter",
                "Client connections closed at accept: max_connections or "
                "max_connections_per_ip reached.", c->connections_refused);
    prom_head(o, "eddy_frontend_connections_open", "gauge", "Client connections open now.");
    for (int l = 0; l < conf->n_listeners && l < FE_MAX_LISTENERS; l++) {
        evbuffer_add_printf(o, "eddy_frontend_connections_open{listener=\"");
        prom_label(o, conf->listeners[l].name);
        evbuffer_add_printf(o, "\"} %" PRId64 "\n", c->connections_open[l]);
    }
    prom_api_counter(o, c, "eddy_frontend_requests_total", "Kafka requests answered, by API.",
                     false);
    prom_api_counter(o, c, "eddy_frontend_errors_total",
                     "Kafka requests or partitions answered with an error, by API.", true);
    prom_scalar(o, "eddy_frontend_bytes_in_total", "counter",
                "Bytes of Kafka request frames received.", c->bytes_in);
    prom_scalar(o, "eddy_frontend_bytes_out_total", "counter",
                "Bytes of Kafka response frames sent.", c->bytes_out);
    prom_scalar(o, "eddy_frontend_records_in_total", "counter", "Records produced.",
                c->records_in);
    prom_scalar(o, "eddy_frontend_records_out_total", "counter", "Records fetched.",
                c->records_out);
    prom_scalar(o, "eddy_frontend_fetch_ahead_hits_total", "counter",
                "Fetch RPCs answered from a read-ahead.", fe_fetch_ahead_hits());
    prom_scalar(o, "eddy_frontend_fetch_ahead_misses_total", "counter",
                "Read-aheads dropped because the next Fetch asked for something else.",
                fe_fetch_ahead_misses());
    prom_scalar(o, "eddy_frontend_glitches_total", "counter",
                "Malformed or refused client input.", c->glitches);
    prom_scalar(o, "eddy_frontend_auth_failures_total", "counter",
                "Failed SASL authentications.", c->auth_failures);
    prom_latency(o, c);
    prom_head(o, "eddy_frontend_policy_connections_open", "gauge",
              "SASL connections open now, by the policy they authenticated with.");
    for (int p = 0; p < conf->n_policies && p < FE_MAX_POLICIES; p++) {
        evbuffer_add_printf(o, "eddy_frontend_policy_connections_open{policy=\"");
        prom_label(o, conf->policies[p].name);
        evbuffer_add_printf(o, "\"} %" PRId64 "\n", c->policy_open[p]);
    }
    prom_head(o, "eddy_frontend_policy_connections_total", "counter",
              "SASL connections authenticated since start, by policy.");
    for (int p = 0; p < conf->n_policies && p < FE_MAX_POLICIES; p++) {
        evbuffer_add_printf(o, "eddy_frontend_policy_connections_total{policy=\"");
        prom_label(o, conf->policies[p].name);
        evbuffer_add_printf(o, "\"} %" PRIu64 "\n", c->policy_total[p]);
    }
    rates r;
    if (rates_get(sc->s, c, &r)) {
        static const char *rn[] = {"bytes_in", "bytes_out", "records_in", "records_out"};
        double rv[] = {r.bytes_in, r.bytes_out, r.records_in, r.records_out};
        for (int k = 0; k < 4; k++) {
            char name[96];
            snprintf(name, sizeof name, "eddy_frontend_%s_per_second", rn[k]);
            prom_head(o, name, "gauge", "Rate over the last 10 seconds (per second).");
            evbuffer_add_printf(o, "%s %.3f\n", name, rv[k]);
        }
    }

    json_t *brokers = json_object_get(sc->doc, "brokers");
    size_t i;
    json_t *b;
    prom_head(o, "eddy_broker_alive", "gauge", "1 when the controller sees the broker alive.");
    json_array_foreach(brokers, i, b) {
        evbuffer_add_printf(o, "eddy_broker_alive{id=\"%" JSON_INTEGER_FORMAT "\"} %d\n",
                            json_integer_value(json_object_get(b, "id")),
                            json_is_true(json_object_get(b, "alive")) ? 1 : 0);
    }
    prom_head(o, "eddy_broker_partitions", "gauge", "Partitions placed on the broker.");
    json_array_foreach(brokers, i, b) {
        evbuffer_add_printf(o,
                            "eddy_broker_partitions{id=\"%" JSON_INTEGER_FORMAT
                            "\"} %" JSON_INTEGER_FORMAT "\n",
                            json_integer_value(json_object_get(b, "id")),
                            json_integer_value(json_object_get(b, "partitions")));
    }
    static const struct {
        const char *field, *name, *help;
    } lm[] = {
        {"map_size", "eddy_broker_lmdb_map_size_bytes", "LMDB map size of the broker."},
        {"used_bytes", "eddy_broker_lmdb_used_bytes", "LMDB bytes in use (pages x page size)."},
        {"used_pages", "eddy_broker_lmdb_used_pages", "LMDB pages in use."},
        {"page_size", "eddy_broker_lmdb_page_size_bytes", "LMDB page size."},
        {"max_readers", "eddy_broker_lmdb_max_readers", "LMDB reader slots."},
        {"num_readers", "eddy_broker_lmdb_readers", "LMDB reader slots in use."},
    };
    for (size_t k = 0; k < sizeof lm / sizeof lm[0]; k++) {
        prom_head(o, lm[k].name, "gauge", lm[k].help);
        json_array_foreach(brokers, i, b) {
            json_t *v = json_object_get(json_object_get(b, "lmdb"), lm[k].field);
            if (json_is_integer(v))
                evbuffer_add_printf(o, "%s{id=\"%" JSON_INTEGER_FORMAT "\"} %" JSON_INTEGER_FORMAT
                                       "\n",
                                    lm[k].name, json_integer_value(json_object_get(b, "id")),
                                    json_integer_value(v));
        }
    }
    prom_head(o, "eddy_broker_rpc_rtt_microseconds", "gauge",
              "RPC round trip from the frontend to the broker, quantiles of the recent samples.");
    json_array_foreach(brokers, i, b) {
        json_t *rt = json_object_get(b, "rpc_rtt_us");
        static const char *qn[][2] = {{"0.5", "p50"}, {"0.99", "p99"}};
        for (int k = 0; json_is_object(rt) && k < 2; k++)
            evbuffer_add_printf(o, "eddy_broker_rpc_rtt_microseconds{id=\"%" JSON_INTEGER_FORMAT
                                   "\",quantile=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
                                json_integer_value(json_object_get(b, "id")), qn[k][0],
                                json_integer_value(json_object_get(rt, qn[k][1])));
    }
    json_t *topics = json_object_get(sc->doc, "topics");
    prom_partitions(o, topics, "eddy_partition_size_bytes", "size_bytes",
                    "Record batch bytes stored for the partition on its broker.");
    prom_partitions(o, topics, "eddy_partition_high_watermark", "high_watermark",
                    "Offset of the next record to be written to the partition.");
    prom_partitions(o, topics, "eddy_partition_log_start_offset", "log_start_offset",
                    "First offset still held by the partition.");
    json_t *groups = json_object_get(sc->doc, "groups");
    const char *gid;
    json_t *g;
    prom_head(o, "eddy_group_members", "gauge", "Members of the consumer group.");
    json_object_foreach(groups, gid, g) {
        json_t *n = json_object_get(g, "members_count");
        if (!json_is_integer(n))
            continue; /* not described this time */
        evbuffer_add_printf(o, "eddy_group_members{group=\"");
        prom_label(o, gid);
        evbuffer_add_printf(o, "\"} %" JSON_INTEGER_FORMAT "\n", json_integer_value(n));
    }
    prom_head(o, "eddy_group_lag", "gauge",
              "Records of the partition the consumer group has not committed yet.");
    json_object_foreach(groups, gid, g) {
        json_t *p;
        json_array_foreach(json_object_get(g, "offsets"), i, p) {
            json_t *lag = json_object_get(p, "lag");
            if (!json_is_integer(lag))
                continue;
            evbuffer_add_printf(o, "eddy_group_lag{group=\"");
            prom_label(o, gid);
            evbuffer_add_printf(o, "\",topic=\"");
            prom_label(o, json_string_value(json_object_get(p, "topic")));
            evbuffer_add_printf(o, "\",partition=\"%" JSON_INTEGER_FORMAT "\"} %" JSON_INTEGER_FORMAT
                                   "\n",
                                json_integer_value(json_object_get(p, "partition")),
                                json_integer_value(lag));
        }
    }
    prom_scalar(o, "eddy_stats_stale", "gauge",
                "1 when some partition offsets or group figures could not be read for this scrape.",
                sc->stale ? 1 : 0);
    return 0;
}

/* ---- a scrape ------------------------------------------------------------------ */

static void scrape_free(scrape *sc) {
    if (!sc)
        return;
    for (size_t i = 0; i < sc->n_calls; i++) {
        scrape_call *c = &sc->calls[i];
        if (c->client)
            rpc_client_cancel(c->client, c->id);
        free(c->parts);
    }
    free(sc->calls);
    for (size_t i = 0; i < sc->n_coords; i++) {
        scrape_coord *co = &sc->coords[i];
        coord_call *cc[3] = {&co->list, &co->desc, &co->fetch};
        for (int k = 0; k < 3; k++)
            if (cc[k]->client)
                rpc_client_cancel(cc[k]->client, cc[k]->id);
        for (size_t g = 0; g < co->n_groups; g++)
            free(co->groups[g].id);
        free(co->groups);
    }
    free(sc->coords);
    if (sc->timer)
        event_free(sc->timer);
    json_decref(sc->doc);
    free(sc->ctr);
    LIST_REMOVE(sc, link);
    sc->s->n_scrapes--;
    free(sc);
}

/* Mark every partition of @p c unknown, with @p error. */
static void mark_parts(scrape_call *c, const char *error) {
    if (c->n) /* a broker owning nothing was asked for its LMDB figures only */
        c->sc->stale = true;
    for (size_t i = 0; i < c->n; i++)
        json_object_set_new(c->parts[i], "error", json_string(error));
}

static void groups_finish(scrape *sc);

/* Render, reply and free. Pending calls are cancelled: their partitions keep
 * null offsets and the answer says "stale". */
static void scrape_finish(scrape *sc) {
    for (size_t i = 0; i < sc->n_calls; i++)
        if (sc->calls[i].client)
            mark_parts(&sc->calls[i], "timed out");
    groups_finish(sc);
    struct evbuffer *out = evbuffer_new();
    int r = out ? (sc->fmt == FMT_JSON ? render_json(sc, out) : render_prom(sc, out)) : -ENOMEM;
    if (r < 0) {
        eddy_log_err(r, "stats", "cannot render the stats");
        evhttp_send_error(sc->req, HTTP_INTERNAL, NULL);
    } else {
        evhttp_add_header(evhttp_request_get_output_headers(sc->req), "Content-Type",
                          sc->fmt == FMT_JSON ? "application/json"
                                              : "text/plain; version=0.0.4; charset=utf-8");
        evhttp_add_header(evhttp_request_get_output_headers(sc->req), "Cache-Control",
                          "no-store");
        evhttp_send_reply(sc->req, HTTP_OK, "OK", out);
    }
    if (out)
        evbuffer_free(out);
    scrape_free(sc);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    scrape_finish(arg);
}

static const char *status_name(Eddy__Status st) {
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&eddy__status__descriptor,
                                                                       (int)st);
    return v ? v->name : "UNKNOWN";
}

static void on_offsets(int err, rpc_frame *reply, void *arg) {
    scrape_call *c = arg;
    scrape *sc = c->sc;
    c->client = NULL;
    if (err < 0) {
        mark_parts(c, err == -ETIMEDOUT ? "timed out" : strerror(-err));
    } else if (reply->hdr->status != EDDY__STATUS__OK) {
        mark_parts(c, status_name(reply->hdr->status));
    } else {
        rtt_record(sc->s, c->broker_id, c->sent_ns);
        Eddy__ListOffsetsResponse *resp = (Eddy__ListOffsetsResponse *)rpc_frame_unpack_body(
            reply, &eddy__list_offsets_response__descriptor);
        if (resp && resp->store && c->jb) {
            const Eddy__StoreStats *st = resp->store;
            json_object_set_new(
                c->jb, "lmdb",
                json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "map_size", (json_int_t)st->map_size,
                          "page_size", (json_int_t)st->page_size, "used_pages",
                          (json_int_t)st->used_pages, "used_bytes",
                          (json_int_t)(st->used_pages * st->page_size), "max_readers",
                          (json_int_t)st->max_readers, "num_readers",
                          (json_int_t)st->num_readers));
        }
        if (!resp || resp->n_partitions != 2 * c->n) {
            mark_parts(c, "malformed reply");
        } else {
            for (size_t i = 0; i < c->n; i++) {
                const Eddy__ListOffsetsPartitionResult *ls = resp->partitions[2 * i];
                const Eddy__ListOffsetsPartitionResult *hw = resp->partitions[2 * i + 1];
                if (ls->status != EDDY__STATUS__OK || hw->status != EDDY__STATUS__OK) {
                    sc->stale = true;
                    json_object_set_new(
                        c->parts[i], "error",
                        json_string(status_name(ls->status != EDDY__STATUS__OK ? ls->status
                                                                               : hw->status)));
                    continue;
                }
                json_object_set_new(c->parts[i], "log_start_offset",
                                    json_integer((json_int_t)ls->offset));
                json_object_set_new(c->parts[i], "high_watermark",
                                    json_integer((json_int_t)hw->offset));
                json_object_set_new(c->parts[i], "size_bytes",
                                    json_integer((json_int_t)hw->size_bytes));
            }
        }
        if (resp)
            protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    if (--sc->outstanding == 0)
        scrape_finish(sc);
}

/* ---- groups ---------------------------------------------------------------------- */

/* A NUL-terminated, valid UTF-8 copy of the @p len bytes at @p p (a Kafka
 * string): when they are not valid UTF-8 or hold a NUL, every non-ASCII or
 * NUL byte becomes '?'. NULL when out of memory. */
static char *text_copy(const char *p, int32_t len) {
    size_t n = len > 0 && p ? (size_t)len : 0;
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    if (n)
        memcpy(c, p, n);
    c[n] = '\0';
    json_t *probe = strlen(c) == n ? json_stringn(c, n) : NULL;
    if (!probe)
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p[i] >= 0x80 || p[i] == '\0')
                c[i] = '?';
    json_decref(probe);
    return c;
}

/* A JSON string of a Kafka string (see text_copy); JSON null for a null
 * string. NULL when out of memory. */
static json_t *json_kstr(kafka_str s) {
    if (s.len < 0)
        return json_null();
    char *c = text_copy(s.ptr, s.len);
    json_t *j = c ? json_string(c) : NULL;
    free(c);
    return j;
}

/* Why an RPC answer is no answer: NULL when it is one. */
static const char *call_error(int err, const rpc_frame *reply) {
    if (err < 0)
        return err == -ETIMEDOUT ? "timed out" : strerror(-err);
    if (reply->hdr->status != EDDY__STATUS__OK)
        return status_name(reply->hdr->status);
    return NULL;
}

/* Note on group @p g that @p what failed because of @p why (the first reason
 * is kept) and mark the scrape stale. */
static void group_error(scrape *sc, json_t *g, const char *what, const char *why) {
    sc->stale = true;
    if (json_object_get(g, "error"))
        return;
    char buf[160];
    snprintf(buf, sizeof buf, "%s: %s", what, why);
    json_object_set_new(g, "error", json_string(buf));
}

/* The group of @p co with id @p id; answers come in the order asked, so
 * entry @p hint is tried first. */
static coord_group *coord_find(scrape_coord *co, kafka_str id, size_t hint) {
    if (hint < co->n_groups && id.len >= 0 && co->groups[hint].len == (size_t)id.len &&
        memcmp(co->groups[hint].id, id.ptr, (size_t)id.len) == 0)
        return &co->groups[hint];
    for (size_t i = 0; i < co->n_groups; i++)
        if (id.len >= 0 && co->groups[i].len == (size_t)id.len &&
            memcmp(co->groups[i].id, id.ptr, co->groups[i].len) == 0)
            return &co->groups[i];
    return NULL;
}

/* Send the Kafka request body in @p w by the GROUP RPC to @p co's broker,
 * within what is left of the scrape's deadline; @p w is freed.
 * Returns 0 (one more outstanding call) or -errno. */
static int coord_send(scrape_coord *co, coord_call *call, int16_t api, int16_t ver,
                      kafka_writer *w, rpc_reply_cb cb) {
    scrape *sc = co->sc;
    fe_route *route = sc->s->w0->route;
    struct evbuffer *tail = NULL;
    rpc_client *client = NULL;
    int r = kw_error(w);
    if (r == 0 && !(tail = evbuffer_new()))
        r = -ENOMEM;
    if (r == 0)
        r = kw_to_evbuffer(w, tail);
    kw_free(w);
    if (r == 0 && !(client = fe_route_broker(route, co->broker_id)))
        r = -ENOTCONN;
    if (r == 0) {
        uint64_t now = fe_now_ns();
        int ms = now < sc->deadline_ns ? (int)((sc->deadline_ns - now + 999999) / 1000000) : 1;
        Eddy__GroupRequest q = EDDY__GROUP_REQUEST__INIT;
        q.api_key = api;
        q.api_version = ver;
        q.group_id = "";          /* several groups: the broker checks each */
        q.principal = "(stats)";
        uint64_t id = rpc_client_call(client, EDDY__METHOD__GROUP, fe_route_version(route),
                                      &q.base, tail, ms, cb, call);
        if (id) {
            call->client = client;
            call->id = id;
            sc->outstanding++;
        } else {
            r = -EIO;
        }
    }
    if (tail)
        evbuffer_free(tail);
    return r;
}

/* A member's partitions, from a "consumer" protocol assignment. Empty or
 * undecodable bytes (no assignment yet, or a rebalance in progress): []. */
static json_t *member_partitions(kafka_bytes assignment, bool consumer) {
    json_t *parts = json_array();
    if (!parts || !consumer || assignment.len <= 0)
        return parts;
    arena a;
    arena_init(&a);
    kafka_reader r;
    kr_init(&r, assignment.ptr, (size_t)assignment.len);
    kafka_consumer_assignment as;
    if (kafka_consumer_assignment_decode(&r, &a, &as) == 0) {
        for (int32_t t = 0; t < as.n_assigned_partitions; t++) {
            const kafka_consumer_topic_partitions *tp = &as.assigned_partitions[t];
            for (int32_t i = 0; i < tp->n_partitions; i++)
                json_array_append_new(parts, json_pack("{s:o, s:i}", "topic", json_kstr(tp->topic),
                                                       "partition", (int)tp->partitions[i]));
        }
    }
    arena_free(&a);
    return parts;
}

static void on_describe(int err, rpc_frame *reply, void *arg) {
    coord_call *call = arg;
    scrape_coord *co = call->co;
    scrape *sc = co->sc;
    call->client = NULL;
    const char *why = call_error(err, reply);
    arena a;
    arena_init(&a);
    kafka_describegroups_resp resp;
    if (!why) {
        kafka_reader r;
        kr_init(&r, reply->tail, reply->tail_len);
        if (kafka_describegroups_resp_decode(&r, STATS_DESCRIBEGROUPS_V, &a, &resp) < 0)
            why = "malformed reply";
    }
    for (int32_t i = 0; !why && i < resp.n_groups; i++) {
        const kafka_describegroups_group *d = &resp.groups[i];
        coord_group *cg = coord_find(co, d->group_id, (size_t)i);
        if (!cg || cg->described)
            continue;
        if (d->error_code) {
            group_error(sc, cg->g, "DescribeGroups", kafka_err_name(d->error_code));
            continue;
        }
        bool consumer = d->protocol_type.len == 8 && !memcmp(d->protocol_type.ptr, "consumer", 8);
        json_t *members = json_array();
        for (int32_t m = 0; members && m < d->n_members; m++) {
            const kafka_describegroups_member *dm = &d->members[m];
            json_array_append_new(
                members, json_pack("{s:o, s:o, s:o, s:o, s:o}", "member_id", json_kstr(dm->member_id),
                                   "group_instance_id", json_kstr(dm->group_instance_id),
                                   "client_id", json_kstr(dm->client_id), "client_host",
                                   json_kstr(dm->client_host), "partitions",
                                   member_partitions(dm->member_assignment, consumer)));
        }
        json_object_set_new(cg->g, "state", json_kstr(d->group_state));
        json_object_set_new(cg->g, "protocol_type", json_kstr(d->protocol_type));
        json_object_set_new(cg->g, "protocol", json_kstr(d->protocol_data));
        json_object_set_new(cg->g, "members", members ? members : json_array());
        json_object_set_new(cg->g, "members_count", json_integer(d->n_members));
        cg->described = true;
    }
    for (size_t i = 0; i < co->n_groups; i++)
        if (!co->groups[i].described)
            group_error(sc, co->groups[i].g, "DescribeGroups", why ? why : "no answer");
    arena_free(&a);
    if (--sc->outstanding == 0)
        scrape_finish(sc);
}

static void on_fetch(int err, rpc_frame *reply, void *arg) {
    coord_call *call = arg;
    scrape_coord *co = call->co;
    scrape *sc = co->sc;
    call->client = NULL;
    const char *why = call_error(err, reply);
    arena a;
    arena_init(&a);
    kafka_offsetfetch_resp resp;
    if (!why) {
        kafka_reader r;
        kr_init(&r, reply->tail, reply->tail_len);
        if (kafka_offsetfetch_resp_decode(&r, STATS_OFFSETFETCH_V, &a, &resp) < 0)
            why = "malformed reply";
    }
    for (int32_t i = 0; !why && i < resp.n_groups; i++) {
        const kafka_offsetfetch_resp_group *f = &resp.groups[i];
        coord_group *cg = coord_find(co, f->group_id, (size_t)i);
        if (!cg || cg->fetched)
            continue;
        if (f->error_code) {
            group_error(sc, cg->g, "OffsetFetch", kafka_err_name(f->error_code));
            continue;
        }
        json_t *offsets = json_array();
        for (int32_t t = 0; offsets && t < f->n_topics; t++) {
            const kafka_offsetfetch_resp_topic *ft = &f->topics[t];
            for (int32_t p = 0; p < ft->n_partitions; p++) {
                const kafka_offsetfetch_resp_partition *fp = &ft->partitions[p];
                if (fp->error_code) {
                    group_error(sc, cg->g, "OffsetFetch", kafka_err_name(fp->error_code));
                    continue;
                }
                json_array_append_new(offsets, json_pack("{s:o, s:i, s:I}", "topic",
                                                         json_kstr(ft->name), "partition",
                                                         (int)fp->partition_index, "committed_offset",
                                                         (json_int_t)fp->committed_offset));
            }
        }
        json_object_set_new(cg->g, "offsets", offsets ? offsets : json_array());
        cg->fetched = offsets != NULL;
    }
    for (size_t i = 0; i < co->n_groups; i++)
        if (!co->groups[i].fetched)
            group_error(sc, co->groups[i].g, "OffsetFetch", why ? why : "no answer");
    arena_free(&a);
    if (--sc->outstanding == 0)
        scrape_finish(sc);
}

/* The groups @p co listed: entries in sc->doc's groups, then one
 * DescribeGroups and one OffsetFetch (every committed offset) for them all. */
static void coord_listed(scrape_coord *co, const kafka_listgroups_resp *resp) {
    scrape *sc = co->sc;
    json_t *groups = json_object_get(sc->doc, "groups");
    co->groups = calloc(resp->n_groups > 0 ? (size_t)resp->n_groups : 1, sizeof *co->groups);
    if (!co->groups) {
        sc->stale = true;
        return;
    }
    for (int32_t i = 0; i < resp->n_groups; i++) {
        const kafka_listgroups_group *lg = &resp->groups[i];
        if (lg->group_id.len < 0)
            continue;
        char *key = text_copy(lg->group_id.ptr, lg->group_id.len);
        char *raw = malloc(lg->group_id.len > 0 ? (size_t)lg->group_id.len : 1);
        json_t *g = json_pack("{s:o, s:o, s:s, s:i, s:[], s:n, s:[], s:n}", "state",
                              json_kstr(lg->group_state), "protocol_type",
                              json_kstr(lg->protocol_type), "protocol", "", "coordinator",
                              (int)co->broker_id, "members", "members_count", "offsets", "lag");
        /* a key seen already: the same group listed by two brokers during a
         * move, or two ids equal once made printable. Shown once. */
        if (!key || !raw || !g || json_object_get(groups, key) ||
            json_object_set(groups, key, g) < 0) {
            if (!key || !raw || !g)
                sc->stale = true;
            free(key);
            free(raw);
            json_decref(g);
            continue;
        }
        if (lg->group_id.len > 0)
            memcpy(raw, lg->group_id.ptr, (size_t)lg->group_id.len);
        co->groups[co->n_groups++] = (coord_group){.id = raw, .len = (size_t)lg->group_id.len, .g = g};
        json_decref(g); /* held by the document */
        free(key);
    }
    if (!co->n_groups)
        return;
    kafka_str *ids = calloc(co->n_groups, sizeof *ids);
    kafka_offsetfetch_req_group *fg = calloc(co->n_groups, sizeof *fg);
    int rd = -ENOMEM, rf = -ENOMEM;
    if (ids && fg) {
        for (size_t i = 0; i < co->n_groups; i++) {
            ids[i] = (kafka_str){co->groups[i].id, (int32_t)co->groups[i].len};
            fg[i] = (kafka_offsetfetch_req_group){.group_id = ids[i], .member_id = {NULL, -1},
                                                  .member_epoch = -1, .topics = NULL,
                                                  .n_topics = -1};
        }
        kafka_writer w;
        kw_init(&w);
        kafka_describegroups_req dq = {.groups = ids, .n_groups = (int32_t)co->n_groups};
        kafka_describegroups_req_encode(&w, STATS_DESCRIBEGROUPS_V, &dq);
        rd = coord_send(co, &co->desc, KAFKA_DESCRIBE_GROUPS, STATS_DESCRIBEGROUPS_V, &w,
                        on_describe);
        kw_init(&w);
        kafka_offsetfetch_req fq = {.groups = fg, .n_groups = (int32_t)co->n_groups,
                                    .n_topics = -1};
        kafka_offsetfetch_req_encode(&w, STATS_OFFSETFETCH_V, &fq);
        rf = coord_send(co, &co->fetch, KAFKA_OFFSET_FETCH, STATS_OFFSETFETCH_V, &w, on_fetch);
    }
    free(ids);
    free(fg);
    for (size_t i = 0; i < co->n_groups; i++) {
        if (rd < 0)
            group_error(sc, co->groups[i].g, "DescribeGroups", strerror(-rd));
        if (rf < 0)
            group_error(sc, co->groups[i].g, "OffsetFetch", strerror(-rf));
    }
}

static void on_list(int err, rpc_frame *reply, void *arg) {
    coord_call *call = arg;
    scrape_coord *co = call->co;
    scrape *sc = co->sc;
    call->client = NULL;
    const char *why = call_error(err, reply);
    arena a;
    arena_init(&a);
    kafka_listgroups_resp resp;
    if (!why) {
        kafka_reader r;
        kr_init(&r, reply->tail, reply->tail_len);
        if (kafka_listgroups_resp_decode(&r, STATS_LISTGROUPS_V, &a, &resp) < 0)
            why = "malformed reply";
        else if (resp.error_code)
            why = kafka_err_name(resp.error_code);
    }
    if (why) {
        sc->stale = true; /* its groups are missing */
        LOG_DEBUG("stats", "ListGroups on broker %d: %s", (int)co->broker_id, why);
    } else {
        coord_listed(co, &resp);
    }
    arena_free(&a);
    if (--sc->outstanding == 0)
        scrape_finish(sc);
}

/* One coordinator per distinct broker owning a partition of
 * __consumer_offsets in @p map. No such topic: no groups (not stale). */
static int coords_build(scrape *sc, const Eddy__ClusterMap *map) {
    const Eddy__TopicInfo *t = NULL;
    for (size_t i = 0; i < map->n_topics && !t; i++)
        if (map->topics[i]->name && !strcmp(map->topics[i]->name, GROUP_OFFSETS_TOPIC))
            t = map->topics[i];
    if (!t || !t->n_partitions)
        return 0;
    sc->coords = calloc(t->n_partitions, sizeof *sc->coords);
    if (!sc->coords)
        return -ENOMEM;
    for (size_t i = 0; i < t->n_partitions; i++) {
        int32_t b = t->partitions[i]->broker_id;
        bool seen = false;
        for (size_t k = 0; k < sc->n_coords; k++)
            seen |= sc->coords[k].broker_id == b;
        if (seen)
            continue;
        scrape_coord *co = &sc->coords[sc->n_coords++];
        co->sc = sc;
        co->broker_id = b;
        co->list.co = co->desc.co = co->fetch.co = co;
    }
    return 0;
}

/* Send ListGroups to every coordinator whose broker is alive. */
static void coords_send(scrape *sc) {
    const Eddy__ClusterMap *map = fe_route_map(sc->s->w0->route);
    for (size_t i = 0; i < sc->n_coords; i++) {
        scrape_coord *co = &sc->coords[i];
        bool alive = false;
        for (size_t b = 0; b < map->n_brokers; b++)
            if (map->brokers[b]->id == co->broker_id)
                alive = map->brokers[b]->alive;
        kafka_writer w;
        kw_init(&w);
        kafka_listgroups_req q = {0};
        kafka_listgroups_req_encode(&w, STATS_LISTGROUPS_V, &q);
        if (!alive) {
            kw_free(&w);
            sc->stale = true;
            continue;
        }
        int r = coord_send(co, &co->list, KAFKA_LIST_GROUPS, STATS_LISTGROUPS_V, &w, on_list);
        if (r < 0) {
            sc->stale = true;
            eddy_log_err(r, "stats", "ListGroups to broker %d", (int)co->broker_id);
        }
    }
}

/* The log start and high watermark read for @p topic / @p partition in this
 * scrape; *ls and *hw are NULL when unknown. */
static void part_offsets(json_t *topics, const char *topic, json_int_t partition, json_t **ls,
                         json_t **hw) {
    *ls = *hw = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(json_object_get(topics, topic), "partitions"), i, p) {
        if (json_integer_value(json_object_get(p, "partition")) != partition)
            continue;
        json_t *l = json_object_get(p, "log_start_offset");
        json_t *h = json_object_get(p, "high_watermark");
        if (json_is_integer(l) && json_is_integer(h)) {
            *ls = l;
            *hw = h;
        }
        return;
    }
}

typedef struct off_ent {
    const char *topic;           /* borrowed from the document */
    json_int_t partition, committed;
} off_ent;

static int off_cmp(const void *a, const void *b) {
    const off_ent *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (c)
        return c;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

/* Group @p g's offsets: the committed ones plus (with committed_offset -1)
 * the partitions assigned to a member with nothing committed, sorted, each
 * with the high watermark and lag; "lag" the sum of the known lags. */
static int group_lag(json_t *g, json_t *topics) {
    json_t *offsets = json_object_get(g, "offsets");
    json_t *members = json_object_get(g, "members");
    size_t cap = json_array_size(offsets), n = 0, i, k;
    json_t *m, *p;
    json_array_foreach(members, i, m)
        cap += json_array_size(json_object_get(m, "partitions"));
    off_ent *e = calloc(cap ? cap : 1, sizeof *e);
    json_t *out = json_array();
    if (!e || !out) {
        free(e);
        json_decref(out);
        return -ENOMEM;
    }
    json_array_foreach(offsets, i, p) {
        off_ent x = {json_string_value(json_object_get(p, "topic")),
                     json_integer_value(json_object_get(p, "partition")),
                     json_integer_value(json_object_get(p, "committed_offset"))};
        if (x.topic) /* a null topic name cannot be looked up */
            e[n++] = x;
    }
    json_array_foreach(members, i, m) {
        json_array_foreach(json_object_get(m, "partitions"), k, p) {
            off_ent x = {json_string_value(json_object_get(p, "topic")),
                         json_integer_value(json_object_get(p, "partition")), -1};
            if (!x.topic)
                continue;
            bool have = false;
            for (size_t j = 0; j < n && !have; j++)
                have = !off_cmp(&e[j], &x);
            if (!have)
                e[n++] = x;
        }
    }
    qsort(e, n, sizeof *e, off_cmp);
    json_int_t sum = 0;
    for (i = 0; i < n; i++) {
        json_t *ls, *hw;
        part_offsets(topics, e[i].topic, e[i].partition, &ls, &hw);
        json_t *lag = json_null();
        if (hw) {
            /* records below the log start cannot be read any more */
            json_int_t from = e[i].committed > json_integer_value(ls) ? e[i].committed
                                                                      : json_integer_value(ls);
            json_int_t l = json_integer_value(hw) > from ? json_integer_value(hw) - from : 0;
            sum += l;
            lag = json_integer(l);
        }
        json_array_append_new(out, json_pack("{s:s, s:I, s:I, s:O, s:o}", "topic", e[i].topic,
                                             "partition", e[i].partition, "committed_offset",
                                             e[i].committed, "high_watermark",
                                             hw ? hw : json_null(), "lag", lag));
    }
    json_object_set_new(g, "lag", json_integer(sum));
    json_object_set_new(g, "offsets", out); /* after the last use of e[].topic */
    free(e);
    return 0;
}

/* At the end of a scrape: groups whose answers are missing are marked, and
 * the lag of those whose offsets arrived is computed from the partitions'
 * offsets read in the same scrape. */
static void groups_finish(scrape *sc) {
    json_t *topics = json_object_get(sc->doc, "topics");
    for (size_t i = 0; i < sc->n_coords; i++) {
        scrape_coord *co = &sc->coords[i];
        if (co->list.client)
            sc->stale = true; /* timed out: its groups are missing */
        for (size_t k = 0; k < co->n_groups; k++) {
            coord_group *cg = &co->groups[k];
            if (!cg->described)
                group_error(sc, cg->g, "DescribeGroups", co->desc.client ? "timed out" : "no answer");
            if (!cg->fetched) {
                group_error(sc, cg->g, "OffsetFetch", co->fetch.client ? "timed out" : "no answer");
                continue; /* offsets [], lag null */
            }
            if (group_lag(cg->g, topics) < 0) {
                group_error(sc, cg->g, "lag", "out of memory");
                json_object_set_new(cg->g, "offsets", json_array());
            }
        }
    }
}

/* Build the brokers/topics skeleton of @p sc->doc from worker 0's map and
 * the list of LIST_OFFSETS calls to make (one per alive broker owning
 * partitions). Returns 0 or -ENOMEM. */
static int scrape_build(scrape *sc) {
    fe_route *route = sc->s->w0->route;
    const Eddy__ClusterMap *map = fe_route_ready(route) ? fe_route_map(route) : NULL;
    json_t *brokers = json_array();
    json_t *topics = json_object();
    if (!brokers || !topics || json_object_set_new(sc->doc, "brokers", brokers) < 0 ||
        json_object_set_new(sc->doc, "topics", topics) < 0)
        return -ENOMEM;
    if (json_object_set_new(sc->doc, "groups", json_object()) < 0)
        return -ENOMEM;
    if (!map) {
        sc->stale = true;
        return 0;
    }
    json_object_set_new(sc->doc, "map_version", json_integer((json_int_t)map->version));
    json_object_set_new(sc->doc, "cluster_id", json_string(map->cluster_id ? map->cluster_id : ""));
    if (coords_build(sc, map) < 0)
        return -ENOMEM;

    size_t nb = map->n_brokers;
    sc->calls = calloc(nb ? nb : 1, sizeof *sc->calls);
    if (!sc->calls)
        return -ENOMEM;
    for (size_t bi = 0; bi < nb; bi++) {
        const Eddy__BrokerInfo *b = map->brokers[bi];
        size_t count = 0;
        for (size_t ti = 0; ti < map->n_topics; ti++)
            for (size_t pi = 0; pi < map->topics[ti]->n_partitions; pi++)
                count += map->topics[ti]->partitions[pi]->broker_id == b->id;
        /* worker 0's connection, as the probes and rpc_rtt_us */
        rpc_client *rc = fe_route_broker(sc->s->w0->route, b->id);
        const char *transport = !rc || !rpc_client_connected(rc) ? "none"
                                : rpc_client_connected_local(rc) ? "local"
                                                                 : "tcp";
        json_t *jb = json_pack("{s:i, s:s, s:b, s:I, s:n, s:o, s:s}", "id", (int)b->id, "address",
                               b->address ? b->address : "", "alive", (int)b->alive,
                               "partitions", (json_int_t)count, "lmdb", "rpc_rtt_us",
                               rtt_json(sc->s, b->id), "rpc_transport", transport);
        if (!jb || json_array_append_new(brokers, jb) < 0)
            return -ENOMEM;
        sc->n_calls = bi + 1; /* scrape_free frees what was built so far */
        sc->calls[bi].sc = sc;
        sc->calls[bi].broker_id = b->id;
        sc->calls[bi].jb = jb;
        sc->calls[bi].parts = calloc(count ? count : 1, sizeof(json_t *));
        if (!sc->calls[bi].parts)
            return -ENOMEM;
    }

    for (size_t ti = 0; ti < map->n_topics; ti++) {
        const Eddy__TopicInfo *t = map->topics[ti];
        json_t *parts = json_array();
        json_t *jt = json_pack("{s:o, s:b}", "partitions", parts, "internal", (int)t->internal);
        if (!jt || json_object_set_new(topics, t->name ? t->name : "", jt) < 0)
            return -ENOMEM;
        for (size_t pi = 0; pi < t->n_partitions; pi++) {
            const Eddy__PartitionPlacement *pl = t->partitions[pi];
            json_t *jp = json_pack("{s:i, s:i, s:n, s:n, s:n}", "partition", (int)pl->partition,
                                   "broker", (int)pl->broker_id, "log_start_offset",
                                   "high_watermark", "size_bytes");
            if (!jp || json_array_append_new(parts, jp) < 0)
                return -ENOMEM;
            scrape_call *c = NULL;
            for (size_t bi = 0; bi < nb; bi++)
                if (sc->calls[bi].broker_id == pl->broker_id)
                    c = &sc->calls[bi];
            if (!c) {
                sc->stale = true;
                json_object_set_new(jp, "error", json_string("no such broker"));
                continue;
            }
            c->parts[c->n++] = jp;
        }
    }
    return 0;
}

/* Send the LIST_OFFSETS calls. The map is walked again in the same order as
 * scrape_build, so entry i of a call matches c->parts[i]. */
static void scrape_send(scrape *sc) {
    fe_route *route = sc->s->w0->route;
    const Eddy__ClusterMap *map = fe_route_map(route);
    for (size_t bi = 0; bi < sc->n_calls; bi++) {
        scrape_call *c = &sc->calls[bi];
        const Eddy__BrokerInfo *b = map->brokers[bi];
        /* a broker owning no partition is still asked (an empty list), for
         * its LMDB figures and a round-trip sample */
        rpc_client *client = b->alive ? fe_route_broker(route, b->id) : NULL;
        if (!client) {
            mark_parts(c, b->alive ? "no RPC client" : "broker not alive");
            continue;
        }
        Eddy__ListOffsetsPartition *lp = calloc(2 * c->n + 1, sizeof *lp);
        Eddy__ListOffsetsPartition **lpp = calloc(2 * c->n + 1, sizeof *lpp);
        if (!lp || !lpp) {
            free(lp);
            free(lpp);
            mark_parts(c, "out of memory");
            continue;
        }
        size_t k = 0;
        for (size_t ti = 0; ti < map->n_topics; ti++) {
            const Eddy__TopicInfo *t = map->topics[ti];
            for (size_t pi = 0; pi < t->n_partitions; pi++) {
                const Eddy__PartitionPlacement *pl = t->partitions[pi];
                if (pl->broker_id != b->id || k >= 2 * c->n)
                    continue;
                for (int j = 0; j < 2; j++, k++) {
                    eddy__list_offsets_partition__init(&lp[k]);
                    lp[k].topic = t->name; /* packed by rpc_client_call, not kept */
                    lp[k].topic_id = t->topic_id;
                    lp[k].partition = pl->partition;
                    lp[k].epoch = pl->epoch;
                    lp[k].timestamp = j == 0 ? -2 : -1;
                    lpp[k] = &lp[k];
                }
            }
        }
        Eddy__ListOffsetsRequest rq = EDDY__LIST_OFFSETS_REQUEST__INIT;
        rq.n_partitions = k;
        rq.partitions = lpp;
        rq.with_store_stats = true;
        c->sent_ns = fe_now_ns();
        uint64_t id = rpc_client_call(client, EDDY__METHOD__LIST_OFFSETS, fe_route_version(route),
                                      &rq.base, NULL, SCRAPE_TIMEOUT_MS, on_offsets, c);
        free(lp);
        free(lpp);
        if (!id) {
            mark_parts(c, "cannot send");
            continue;
        }
        c->client = client;
        c->id = id;
        sc->outstanding++;
    }
}

static void scrape_start(fe_stats_http *s, struct evhttp_request *req, enum scrape_fmt fmt) {
    if (s->n_scrapes >= MAX_SCRAPES) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        reply_text(req, 503, "Service Unavailable", "text/plain", "too many scrapes in flight\n");
        return;
    }
    scrape *sc = calloc(1, sizeof *sc);
    if (!sc) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    sc->s = s;
    sc->req = req;
    sc->fmt = fmt;
    LIST_INSERT_HEAD(&s->scrapes, sc, link);
    s->n_scrapes++;
    sc->doc = json_object();
    sc->ctr = malloc(sizeof *sc->ctr);
    sc->timer = evtimer_new(s->w0->base, on_timeout, sc);
    if (!sc->doc || !sc->ctr || !sc->timer || scrape_build(sc) < 0) {
        LOG_WARN("stats", "out of memory building a scrape");
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        scrape_free(sc);
        return;
    }
    counters_sum(s->workers, sc->ctr);
    sc->deadline_ns = fe_now_ns() + (uint64_t)SCRAPE_TIMEOUT_MS * 1000000u;
    if (sc->n_calls)
        scrape_send(sc);
    if (sc->n_coords)
        coords_send(sc);
    if (!sc->outstanding) {
        scrape_finish(sc);
        return;
    }
    struct timeval tv = {SCRAPE_TIMEOUT_MS / 1000, (SCRAPE_TIMEOUT_MS % 1000) * 1000};
    evtimer_add(sc->timer, &tv);
}

/* ---- the 1 s tick: traffic snapshots and RTT probes ------------------------------- */

static void on_probe(int err, rpc_frame *reply, void *arg) {
    rtt_ent *e = arg;
    e->probe_client = NULL;
    e->probe_id = 0;
    if (err == 0 && reply->hdr->status == EDDY__STATUS__OK)
        rtt_record(e->s, e->broker_id, e->probe_sent_ns);
}

/* An empty LIST_OFFSETS to every alive broker of worker 0's map (one in
 * flight per broker): the broker answers it at once, so its round trip is
 * the connection's and the broker loop's latency. */
static void probe_brokers(fe_stats_http *s) {
    fe_route *route = s->w0->route;
    if (!fe_route_ready(route))
        return;
    const Eddy__ClusterMap *map = fe_route_map(route);
    for (size_t i = 0; i < map->n_brokers; i++) {
        const Eddy__BrokerInfo *b = map->brokers[i];
        if (!b->alive)
            continue;
        rtt_ent *e = rtt_find(s, b->id, true);
        rpc_client *client = e && !e->probe_client ? fe_route_broker(route, b->id) : NULL;
        if (!client)
            continue;
        Eddy__ListOffsetsRequest rq = EDDY__LIST_OFFSETS_REQUEST__INIT;
        e->probe_sent_ns = fe_now_ns();
        uint64_t id = rpc_client_call(client, EDDY__METHOD__LIST_OFFSETS, fe_route_version(route),
                                      &rq.base, NULL, PROBE_TIMEOUT_MS, on_probe, e);
        if (id) {
            e->probe_client = client;
            e->probe_id = id;
        }
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    fe_stats_http *s = arg;
    traffic_now(s->workers, &s->snaps[s->snap_pos]);
    s->snap_pos = (s->snap_pos + 1) % RATE_SNAPS;
    if (s->n_snaps < RATE_SNAPS)
        s->n_snaps++;
    probe_brokers(s);
}

/* ---- HTTP dispatch ---------------------------------------------------------------- */

/* "Bearer <token>" with the configured token (compared in constant time
 * with respect to where they differ); true when no token is configured. */
static bool token_ok(const fe_stats_http *s, struct evhttp_request *req) {
    return http_bearer_ok(s->conf->stats_token,
                          evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization"));
}

static bool cluster_ready(fe_stats_http *s) {
    fe_route *route = s->w0->route;
    if (!fe_route_ready(route))
        return false;
    const Eddy__ClusterMap *map = fe_route_map(route);
    for (size_t i = 0; i < map->n_brokers; i++)
        if (map->brokers[i]->alive)
            return true;
    return false;
}

static void on_request(struct evhttp_request *req, void *arg) {
    fe_stats_http *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path)
        path = "";
    enum { P_NONE, P_STATS, P_METRICS, P_HEALTHZ, P_READYZ } p = P_NONE;
    if (!strcmp(path, "/stats"))
        p = P_STATS;
    else if (!strcmp(path, "/metrics"))
        p = P_METRICS;
    else if (!strcmp(path, "/healthz"))
        p = P_HEALTHZ;
    else if (!strcmp(path, "/readyz"))
        p = P_READYZ;
    if (p == P_NONE) {
        reply_text(req, HTTP_NOTFOUND, "Not Found", "text/plain", "not found\n");
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
        reply_text(req, HTTP_BADMETHOD, "Method Not Allowed", "text/plain",
                   "method not allowed\n");
        return;
    }
    if ((p == P_STATS || p == P_METRICS) && !token_ok(s, req)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"eddy-stats\"");
        reply_text(req, 401, "Unauthorized", "text/plain",
                   "a valid Authorization: Bearer token is required\n");
        return;
    }
    switch (p) {
    case P_STATS:
        scrape_start(s, req, FMT_JSON);
        break;
    case P_METRICS:
        scrape_start(s, req, FMT_PROM);
        break;
    case P_HEALTHZ:
        reply_text(req, HTTP_OK, "OK", "text/plain", "ok\n");
        break;
    case P_READYZ:
        if (cluster_ready(s))
            reply_text(req, HTTP_OK, "OK", "text/plain", "ready\n");
        else
            reply_text(req, 503, "Service Unavailable", "text/plain",
                       "no cluster map or no broker alive\n");
        break;
    case P_NONE:
        break;
    }
}

/* ---- start / stop: tasks run on worker 0 --------------------------------------------- */

static void task_done(fe_stats_http *s, int result) {
    pthread_mutex_lock(&s->lock);
    s->task_result = result;
    s->task_done = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void on_setup(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    fe_stats_http *s = arg;
    s->http = evhttp_new(s->w0->base);
    if (!s->http) {
        task_done(s, -ENOMEM);
        return;
    }
    /* every method reaches on_request, which answers 405 itself */
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(s->http, 8192);
    evhttp_set_max_body_size(s->http, 4096);
    evhttp_set_timeout(s->http, 30);
    evhttp_set_gencb(s->http, on_request, s);
    s->tick = event_new(s->w0->base, -1, EV_PERSIST, on_tick, s);
    struct timeval tv = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};
    if (!s->tick || event_add(s->tick, &tv) < 0 ||
        !evhttp_accept_socket_with_handle(s->http, s->fd)) {
        int e = errno ? -errno : -ENOMEM;
        if (s->tick)
            event_free(s->tick);
        s->tick = NULL;
        evhttp_free(s->http);
        s->http = NULL;
        task_done(s, e);
        return;
    }
    on_tick(-1, 0, s); /* the first snapshot: rates from the start */
    task_done(s, 0);
}

static void on_teardown(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    fe_stats_http *s = arg;
    while (!LIST_EMPTY(&s->scrapes)) {
        scrape *sc = LIST_FIRST(&s->scrapes);
        evhttp_send_error(sc->req, 503, "shutting down");
        scrape_free(sc);
    }
    evhttp_free(s->http); /* closes the listening socket */
    s->http = NULL;
    if (s->tick)
        event_free(s->tick);
    s->tick = NULL;
    for (size_t i = 0; i < s->n_rtt; i++) {
        if (s->rtt[i]->probe_client)
            rpc_client_cancel(s->rtt[i]->probe_client, s->rtt[i]->probe_id);
        free(s->rtt[i]);
    }
    free(s->rtt);
    s->rtt = NULL;
    s->n_rtt = 0;
    task_done(s, 0);
}

/* Run @p fn on worker 0's loop and wait for it to call task_done(). Returns
 * its result, or -ETIMEDOUT (then the task may still run later: the caller
 * must keep @p s alive). */
static int run_on_w0(fe_stats_http *s, event_callback_fn fn) {
    pthread_mutex_lock(&s->lock);
    s->task_done = false;
    pthread_mutex_unlock(&s->lock);
    struct timeval now = {0, 0};
    if (event_base_once(s->w0->base, -1, EV_TIMEOUT, fn, s, &now) < 0)
        return -ENOMEM;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += TASK_WAIT_S;
    int r = 0;
    pthread_mutex_lock(&s->lock);
    while (!s->task_done && r == 0)
        r = pthread_cond_timedwait(&s->cond, &s->lock, &until);
    int result = s->task_done ? s->task_result : -ETIMEDOUT;
    pthread_mutex_unlock(&s->lock);
    return result;
}

/* Bind a listening TCP socket on @p addr. Returns the socket or -errno. */
static int bind_listener(const char *addr) {
    netaddr na;
    struct sockaddr_storage ss;
    socklen_t sl;
    int r = netaddr_parse(addr, &na);
    if (r == 0)
        r = netaddr_resolve(&na, true, &ss, &sl);
    if (r < 0)
        return r;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

fe_stats_http *fe_stats_http_start(struct event_base *unused, const fe_config *conf,
                                   fe_workers *workers) {
    (void)unused;
    if (!workers || fe_workers_count(workers) < 1) {
        LOG_ERROR("stats", "no worker to run the stats endpoint on");
        return NULL;
    }
    int fd = bind_listener(conf->stats_listen);
    if (fd < 0) {
        eddy_log_err(fd, "stats", "cannot listen on %s", conf->stats_listen);
        return NULL;
    }
    fe_stats_http *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        eddy_log_err(-ENOMEM, "stats", "cannot start the stats endpoint");
        return NULL;
    }
    s->conf = conf;
    s->workers = workers;
    s->w0 = fe_workers_get(workers, 0);
    s->fd = fd;
    s->started_ns = fe_now_ns();
    LIST_INIT(&s->scrapes);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    int r = run_on_w0(s, on_setup);
    if (r == -ETIMEDOUT) {
        /* on_setup may still run: s must outlive it, so it is leaked */
        eddy_log_err(r, "stats", "worker 0 did not set up the stats endpoint");
        return NULL;
    }
    if (r < 0) {
        eddy_log_err(r, "stats", "cannot serve HTTP on %s", conf->stats_listen);
        close(fd);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
        return NULL;
    }
    LOG_INFO("stats", "stats endpoint on http://%s/stats (also /metrics, /healthz, /readyz)",
             conf->stats_listen);
    return s;
}

void fe_stats_http_stop(fe_stats_http *s) {
    if (!s)
        return;
    int r = run_on_w0(s, on_teardown);
    if (r < 0) {
        /* worker 0 is stuck: leave everything to the process exit */
        eddy_log_err(r, "stats", "worker 0 did not stop the stats endpoint");
        return;
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}
