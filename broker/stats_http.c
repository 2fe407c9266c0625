/* stats_http.c — the broker's HTTP endpoint (GET /stats, /metrics, /healthz,
 * /readyz) on the broker's own event loop.
 *
 * Every answer is built at once from what the loop thread owns (the map,
 * the partition table of the store) and from atomics (partition offsets and
 * sizes, committer counters); LMDB figures come from mdb_env_info and
 * mdb_env_stat, which read the environment's memory map without a
 * transaction. Opening a partition the broker has not touched since its
 * start scans its keys once (as LIST_OFFSETS does); afterwards it is cached. */
#include "stats_http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "group.h"
#include "http_auth.h"
#include "log.h"
#include "plog.h"
#include "server.h"

struct br_stats_http {
    br_server *s;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    int64_t started_ms;
};

static void reply_text(struct evhttp_request *req, int code, const char *reason,
                       const char *body) {
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    evhttp_send_reply(req, code, reason, b);
    if (b)
        evbuffer_free(b);
}

/* ---- figures ------------------------------------------------------------------ */

typedef struct part_fig {
    const char *topic;           /* borrowed from the map */
    int32_t partition;
    bool known;
    int64_t log_start, hw, bytes;
    const char *error;
} part_fig;

typedef struct figures {
    part_fig *parts;
    size_t n_parts;
    bool have_store;
    br_store_stats store;
    br_commit_stats commit;
    size_t groups;
} figures;

static int gather(br_server *s, figures *f) {
    memset(f, 0, sizeof *f);
    f->have_store = br_store_get_stats(s->store, &f->store) == 0;
    br_committer_stats(s->committer, &f->commit);
    if (s->group_handler == br_groups_rpc_handle && s->group_arg)
        f->groups = br_groups_count(s->group_arg);
    const Eddy__ClusterMap *m = br_map_get(s->map);
    if (!m || s->self_id < 0)
        return 0;
    size_t n = 0;
    for (size_t t = 0; t < m->n_topics; t++)
        for (size_t p = 0; p < m->topics[t]->n_partitions; p++)
            n += m->topics[t]->partitions[p]->broker_id == s->self_id;
    f->parts = calloc(n ? n : 1, sizeof *f->parts);
    if (!f->parts)
        return -ENOMEM;
    for (size_t t = 0; t < m->n_topics; t++) {
        const Eddy__TopicInfo *ti = m->topics[t];
        for (size_t p = 0; p < ti->n_partitions; p++) {
            const Eddy__PartitionPlacement *pl = ti->partitions[p];
            if (pl->broker_id != s->self_id)
                continue;
            part_fig *pf = &f->parts[f->n_parts++];
            pf->topic = ti->name ? ti->name : "";
            pf->partition = pl->partition;
            br_part *part = NULL;
            int r = ti->topic_id.len == 16
                        ? br_plog_open(s->store, ti->topic_id.data, pl->partition, false, &part)
                        : -EINVAL;
            if (r == -ENOENT) { /* owned, never written */
                pf->known = true;
                continue;
            }
            if (r < 0) {
                pf->error = strerror(-r);
                continue;
            }
            pf->known = true;
            pf->log_start = atomic_load(&part->log_start);
            pf->hw = atomic_load(&part->high_watermark);
            pf->bytes = atomic_load(&part->bytes);
        }
    }
    return 0;
}

static bool is_ready(const br_server *s) {
    return s->registered && br_map_version(s->map) > 0 && s->self_id >= 0;
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *render_json(br_stats_http *h, const figures *f) {
    br_server *s = h->s;
    const Eddy__ClusterMap *m = br_map_get(s->map);
    json_t *doc = json_object();
    json_t *peers = json_array();
    json_t *parts = json_array();
    if (!doc || !peers || !parts) {
        json_decref(doc);
        json_decref(peers);
        json_decref(parts);
        return NULL;
    }
    json_object_set_new(doc, "id", json_integer(s->self_id));
    json_object_set_new(doc, "address", json_string(s->cfg.advertised ? s->cfg.advertised : ""));
    json_object_set_new(doc, "controller", json_boolean(s->ctl != NULL));
    json_object_set_new(doc, "registered", json_boolean(s->registered));
    json_object_set_new(doc, "ready", json_boolean(is_ready(s)));
    json_object_set_new(doc, "map_version", json_integer((json_int_t)br_map_version(s->map)));
    if (s->cluster_id)
        json_object_set_new(doc, "cluster_id", json_string(s->cluster_id));
    json_object_set_new(doc, "uptime_s", json_integer((br_mono_ms() - h->started_ms) / 1000));
    for (size_t i = 0; m && i < m->n_brokers; i++) {
        const Eddy__BrokerInfo *b = m->brokers[i];
        if (b->id == s->self_id)
            continue;
        json_array_append_new(peers, json_pack("{s:i, s:s, s:b}", "id", (int)b->id, "address",
                                               b->address ? b->address : "", "alive",
                                               (int)b->alive));
    }
    json_object_set_new(doc, "peers", peers);
    for (size_t i = 0; i < f->n_parts; i++) {
        const part_fig *p = &f->parts[i];
        json_t *jp = json_pack("{s:s, s:i}", "topic", p->topic, "partition", (int)p->partition);
        if (!jp)
            continue;
        if (p->known) {
            json_object_set_new(jp, "log_start_offset", json_integer(p->log_start));
            json_object_set_new(jp, "high_watermark", json_integer(p->hw));
            json_object_set_new(jp, "size_bytes", json_integer(p->bytes));
        } else {
            json_object_set_new(jp, "log_start_offset", json_null());
            json_object_set_new(jp, "high_watermark", json_null());
            json_object_set_new(jp, "size_bytes", json_null());
            json_object_set_new(jp, "error", json_string(p->error ? p->error : "unknown"));
        }
        json_array_append_new(parts, jp);
    }
    json_object_set_new(doc, "partitions", parts);
    if (f->have_store) {
        const br_store_stats *st = &f->store;
        json_object_set_new(
            doc, "lmdb",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "map_size", (json_int_t)st->map_size,
                      "page_size", (json_int_t)st->page_size, "used_pages",
                      (json_int_t)(st->last_page + 1), "used_bytes",
                      (json_int_t)((st->last_page + 1) * st->page_size), "max_readers",
                      (json_int_t)st->max_readers, "num_readers", (json_int_t)st->num_readers));
    } else {
        json_object_set_new(doc, "lmdb", json_null());
    }
    if (f->have_store)
        json_object_set_new(doc, "reads",
                            json_pack("{s:I, s:I}", "pinned", (json_int_t)f->store.pins_live,
                                      "sendfile_bytes", (json_int_t)f->store.file_bytes));
    else
        json_object_set_new(doc, "reads", json_null());
    json_object_set_new(doc, "committer",
                        json_pack("{s:I, s:I, s:I, s:i}", "commits", (json_int_t)f->commit.commits,
                                  "appends", (json_int_t)f->commit.appends, "bytes",
                                  (json_int_t)f->commit.bytes, "inflight", s->inflight));
    json_object_set_new(doc, "groups", json_integer((json_int_t)f->groups));
    return doc;
}

/* ---- Prometheus ------------------------------------------------------------------- */

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

static void prom_scalar(struct evbuffer *o, const char *name, const char *type, const char *help,
                        uint64_t v) {
    evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type,
                        name, v);
}

static void prom_parts(struct evbuffer *o, const figures *f, const char *name, const char *help,
                       int which) {
    evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    for (size_t i = 0; i < f->n_parts; i++) {
        const part_fig *p = &f->parts[i];
        if (!p->known)
            continue;
        int64_t v = which == 0 ? p->hw : which == 1 ? p->log_start : p->bytes;
        evbuffer_add_printf(o, "%s{topic=\"", name);
        prom_label(o, p->topic);
        evbuffer_add_printf(o, "\",partition=\"%d\"} %" PRId64 "\n", (int)p->partition, v);
    }
}

static void render_prom(br_stats_http *h, const figures *f, struct evbuffer *o) {
    br_server *s = h->s;
    const Eddy__ClusterMap *m = br_map_get(s->map);
    prom_scalar(o, "eddy_broker_uptime_seconds", "gauge", "Seconds since the endpoint started.",
                (uint64_t)((br_mono_ms() - h->started_ms) / 1000));
    prom_scalar(o, "eddy_broker_controller", "gauge", "1 when this broker is the controller.",
                s->ctl != NULL);
    prom_scalar(o, "eddy_broker_ready", "gauge", "1 when registered and holding a cluster map.",
                is_ready(s));
    prom_scalar(o, "eddy_broker_map_version", "gauge", "Version of the cluster map held.",
                br_map_version(s->map));
    evbuffer_add_printf(o, "# HELP eddy_broker_peer_alive 1 when the map shows the peer alive.\n"
                           "# TYPE eddy_broker_peer_alive gauge\n");
    for (size_t i = 0; m && i < m->n_brokers; i++)
        if (m->brokers[i]->id != s->self_id)
            evbuffer_add_printf(o, "eddy_broker_peer_alive{id=\"%d\"} %d\n",
                                (int)m->brokers[i]->id, m->brokers[i]->alive ? 1 : 0);
    prom_scalar(o, "eddy_broker_owned_partitions", "gauge", "Partitions this broker owns.",
                f->n_parts);
    prom_parts(o, f, "eddy_broker_partition_high_watermark",
               "Offset of the next record to be written to the partition.", 0);
    prom_parts(o, f, "eddy_broker_partition_log_start_offset",
               "First offset still held by the partition.", 1);
    prom_parts(o, f, "eddy_broker_partition_size_bytes",
               "Record batch bytes stored for the partition.", 2);
    if (f->have_store) {
        const br_store_stats *st = &f->store;
        prom_scalar(o, "eddy_broker_lmdb_map_size_bytes", "gauge", "LMDB map size.",
                    st->map_size);
        prom_scalar(o, "eddy_broker_lmdb_page_size_bytes", "gauge", "LMDB page size.",
                    st->page_size);
        prom_scalar(o, "eddy_broker_lmdb_used_pages", "gauge",
                    "LMDB pages in use (last page number + 1).", st->last_page + 1);
        prom_scalar(o, "eddy_broker_lmdb_used_bytes", "gauge",
                    "LMDB bytes in use (used pages x page size).",
                    (uint64_t)(st->last_page + 1) * st->page_size);
        prom_scalar(o, "eddy_broker_lmdb_max_readers", "gauge", "LMDB reader slots.",
                    st->max_readers);
        prom_scalar(o, "eddy_broker_lmdb_readers", "gauge", "LMDB reader slots in use.",
                    st->num_readers);
        prom_scalar(o, "eddy_broker_pinned_reads", "gauge",
                    "Pinned reads whose bytes are on their way out.", st->pins_live);
        prom_scalar(o, "eddy_broker_sendfile_bytes_total", "counter",
                    "Record batch bytes sent with sendfile().", st->file_bytes);
    }
    prom_scalar(o, "eddy_broker_commits_total", "counter", "Group commits (LMDB transactions).",
                f->commit.commits);
    prom_scalar(o, "eddy_broker_appends_total", "counter", "Partition appends committed.",
                f->commit.appends);
    prom_scalar(o, "eddy_broker_append_bytes_total", "counter", "Record batch bytes committed.",
                f->commit.bytes);
    prom_scalar(o, "eddy_broker_groups", "gauge", "Consumer groups coordinated here.", f->groups);
}

/* ---- HTTP ----------------------------------------------------------------------------- */

static void serve(br_stats_http *h, struct evhttp_request *req, bool json) {
    figures f;
    struct evbuffer *out = evbuffer_new();
    int r = out ? gather(h->s, &f) : -ENOMEM;
    if (r == 0 && json) {
        json_t *doc = render_json(h, &f);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        r = text && evbuffer_add(out, text, strlen(text)) == 0 && evbuffer_add(out, "\n", 1) == 0
                ? 0
                : -ENOMEM;
        free(text);
        json_decref(doc);
    } else if (r == 0) {
        render_prom(h, &f, out);
    }
    if (r == 0)
        free(f.parts);
    if (r < 0) {
        eddy_log_err(r, "stats", "cannot render the stats");
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
    } else {
        struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
        evhttp_add_header(hd, "Content-Type",
                          json ? "application/json" : "text/plain; version=0.0.4; charset=utf-8");
        evhttp_add_header(hd, "Cache-Control", "no-store");
        evhttp_send_reply(req, HTTP_OK, "OK", out);
    }
    if (out)
        evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg) {
    br_stats_http *h = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path)
        path = "";
    bool stats = !strcmp(path, "/stats"), metrics = !strcmp(path, "/metrics");
    bool healthz = !strcmp(path, "/healthz"), readyz = !strcmp(path, "/readyz");
    if (!stats && !metrics && !healthz && !readyz) {
        reply_text(req, HTTP_NOTFOUND, "Not Found", "not found\n");
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
        reply_text(req, HTTP_BADMETHOD, "Method Not Allowed", "method not allowed\n");
        return;
    }
    if ((stats || metrics) &&
        !http_bearer_ok(h->s->cfg.stats_token,
                           evhttp_find_header(evhttp_request_get_input_headers(req),
                                              "Authorization"))) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"eddy-stats\"");
        reply_text(req, 401, "Unauthorized", "a valid Authorization: Bearer token is required\n");
        return;
    }
    if (healthz)
        reply_text(req, HTTP_OK, "OK", "ok\n");
    else if (readyz)
        is_ready(h->s) ? reply_text(req, HTTP_OK, "OK", "ready\n")
                       : reply_text(req, 503, "Service Unavailable",
                                    "not registered with the controller or no cluster map\n");
    else
        serve(h, req, stats);
}

int br_stats_http_start(br_server *s, br_stats_http **out) {
    char host[256];
    int port;
    int r = br_config_split_addr(s->cfg.stats_listen, host, sizeof host, &port);
    if (r < 0)
        return eddy_log_err(r, "stats", "stats_listen %s", s->cfg.stats_listen);
    br_stats_http *h = calloc(1, sizeof *h);
    if (!h || !(h->http = evhttp_new(s->base))) {
        free(h);
        return eddy_log_err(-ENOMEM, "stats", "starting the stats endpoint");
    }
    h->s = s;
    h->started_ms = br_mono_ms();
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(h->http, 8192);
    evhttp_set_max_body_size(h->http, 4096);
    evhttp_set_timeout(h->http, 30);
    evhttp_set_gencb(h->http, on_request, h);
    h->sock = evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
    if (!h->sock) {
        r = errno ? -errno : -EADDRNOTAVAIL;
        evhttp_free(h->http);
        free(h);
        return eddy_log_err(r, "stats", "cannot listen on %s", s->cfg.stats_listen);
    }
    LOG_INFO("stats", "broker stats on http://%s/stats (also /metrics, /healthz, /readyz)%s",
             s->cfg.stats_listen, s->cfg.stats_token ? ", token required" : "");
    *out = h;
    return 0;
}

void br_stats_http_stop(br_stats_http *h) {
    if (!h)
        return;
    evhttp_free(h->http);
    free(h);
}

int br_stats_http_port(const br_stats_http *h) {
    evutil_socket_t fd = evhttp_bound_socket_get_fd(h->sock);
    struct sockaddr_storage ss;
    ev_socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EAFNOSUPPORT;
}
