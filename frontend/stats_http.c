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
#include "log.h"
#include "netaddr.h"
#include "route.h"
#include "stats.h"
#include "worker.h"

#define SCRAPE_TIMEOUT_MS 2000
#define MAX_SCRAPES 32          /* concurrent /stats + /metrics in flight */
#define TASK_WAIT_S 5           /* start/stop wait for worker 0 this long */

/* ---- counters snapshot ------------------------------------------------------ */

typedef struct api_ctr {
    uint64_t requests, errors, sum_us;
    uint64_t lat[FE_LAT_BUCKETS];
} api_ctr;

/* All workers' counters, summed. */
typedef struct fe_counters {
    uint64_t connections_total;
    int64_t connections_open[FE_MAX_LISTENERS];
    uint64_t bytes_in, bytes_out, records_in, records_out, glitches, auth_failures;
    api_ctr api[KAFKA_API_KEY_MAX];
} fe_counters;

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void counters_sum(fe_workers *ws, fe_counters *c) {
    memset(c, 0, sizeof *c);
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
} scrape_call;

struct scrape {
    fe_stats_http *s;
    struct evhttp_request *req;
    enum scrape_fmt fmt;
    json_t *doc;                 /* brokers, topics, groups, ... */
    fe_counters *ctr;
    scrape_call *calls;
    size_t n_calls;
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
    json_object_set_new(fe, "requests", reqs);
    json_object_set_new(fe, "errors", errs);
    json_object_set_new(fe, "latency_us", lat);
    json_object_set_new(fe, "bytes_in", json_integer((json_int_t)c->bytes_in));
    json_object_set_new(fe, "bytes_out", json_integer((json_int_t)c->bytes_out));
    json_object_set_new(fe, "records_in", json_integer((json_int_t)c->records_in));
    json_object_set_new(fe, "records_out", json_integer((json_int_t)c->records_out));
    json_object_set_new(fe, "glitches", json_integer((json_int_t)c->glitches));
    json_object_set_new(fe, "auth_failures", json_integer((json_int_t)c->auth_failures));
    json_object_set_new(fe, "uptime_s",
                        json_integer((json_int_t)((fe_now_ns() - s->started_ns) / 1000000000u)));
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
    prom_scalar(o, "eddy_frontend_glitches_total", "counter",
                "Malformed or refused client input.", c->glitches);
    prom_scalar(o, "eddy_frontend_auth_failures_total", "counter",
                "Failed SASL authentications.", c->auth_failures);
    prom_latency(o, c);

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
    json_t *topics = json_object_get(sc->doc, "topics");
    prom_partitions(o, topics, "eddy_partition_high_watermark", "high_watermark",
                    "Offset of the next record to be written to the partition.");
    prom_partitions(o, topics, "eddy_partition_log_start_offset", "log_start_offset",
                    "First offset still held by the partition.");
    prom_scalar(o, "eddy_stats_stale", "gauge",
                "1 when some partition offsets could not be read for this scrape.",
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
    c->sc->stale = true;
    for (size_t i = 0; i < c->n; i++)
        json_object_set_new(c->parts[i], "error", json_string(error));
}

/* Render, reply and free. Pending calls are cancelled: their partitions keep
 * null offsets and the answer says "stale". */
static void scrape_finish(scrape *sc) {
    for (size_t i = 0; i < sc->n_calls; i++)
        if (sc->calls[i].client)
            mark_parts(&sc->calls[i], "timed out");
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
        Eddy__ListOffsetsResponse *resp = (Eddy__ListOffsetsResponse *)rpc_frame_unpack_body(
            reply, &eddy__list_offsets_response__descriptor);
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
            }
        }
        if (resp)
            protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    if (--sc->outstanding == 0)
        scrape_finish(sc);
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
        json_t *jb = json_pack("{s:i, s:s, s:b, s:I}", "id", (int)b->id, "address",
                               b->address ? b->address : "", "alive", (int)b->alive,
                               "partitions", (json_int_t)count);
        if (!jb || json_array_append_new(brokers, jb) < 0)
            return -ENOMEM;
        sc->n_calls = bi + 1; /* scrape_free frees what was built so far */
        sc->calls[bi].sc = sc;
        sc->calls[bi].broker_id = b->id;
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
            json_t *jp = json_pack("{s:i, s:i, s:n, s:n}", "partition", (int)pl->partition,
                                   "broker", (int)pl->broker_id, "log_start_offset",
                                   "high_watermark");
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
        if (!c->n)
            continue;
        rpc_client *client = b->alive ? fe_route_broker(route, b->id) : NULL;
        if (!client) {
            mark_parts(c, b->alive ? "no RPC client" : "broker not alive");
            continue;
        }
        Eddy__ListOffsetsPartition *lp = calloc(2 * c->n, sizeof *lp);
        Eddy__ListOffsetsPartition **lpp = calloc(2 * c->n, sizeof *lpp);
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
    if (sc->n_calls)
        scrape_send(sc);
    if (!sc->outstanding) {
        scrape_finish(sc);
        return;
    }
    struct timeval tv = {SCRAPE_TIMEOUT_MS / 1000, (SCRAPE_TIMEOUT_MS % 1000) * 1000};
    evtimer_add(sc->timer, &tv);
}

/* ---- HTTP dispatch ---------------------------------------------------------------- */

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
    if (!evhttp_accept_socket_with_handle(s->http, s->fd)) {
        int e = errno ? -errno : -ENOMEM;
        evhttp_free(s->http);
        s->http = NULL;
        task_done(s, e);
        return;
    }
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
