#include "stats.h"

#include <string.h>

/* Single writer per fe_stats: a relaxed load+store is enough and avoids a
 * locked instruction per counter on the hot path. */
#define BUMP(field, n) \
    atomic_store_explicit(&(field), atomic_load_explicit(&(field), memory_order_relaxed) + (n), \
                          memory_order_relaxed)

void fe_stats_init(fe_stats *s, const fe_config *conf) {
    memset(s, 0, sizeof *s);
    s->conf = conf;
}

static int listener_index(fe_stats *s, const fe_listener_conf *l) {
    int i = (int)(l - s->conf->listeners);
    return (i >= 0 && i < FE_MAX_LISTENERS) ? i : 0;
}

void fe_stats_conn_opened(fe_stats *s, const fe_listener_conf *l) {
    BUMP(s->connections_total, 1);
    BUMP(s->connections_open[listener_index(s, l)], 1);
}

void fe_stats_conn_closed(fe_stats *s, const fe_listener_conf *l) {
    BUMP(s->connections_open[listener_index(s, l)], -1);
}

void fe_stats_bytes_in(fe_stats *s, size_t n) { BUMP(s->bytes_in, n); }
void fe_stats_bytes_out(fe_stats *s, size_t n) { BUMP(s->bytes_out, n); }
void fe_stats_records_in(fe_stats *s, uint64_t n) { BUMP(s->records_in, n); }
void fe_stats_records_out(fe_stats *s, uint64_t n) { BUMP(s->records_out, n); }
void fe_stats_glitch(fe_stats *s) { BUMP(s->glitches, 1); }
void fe_stats_auth_failure(fe_stats *s) { BUMP(s->auth_failures, 1); }

void fe_stats_request_done(fe_stats *s, int16_t api_key, uint64_t took_ns) {
    if (api_key < 0 || api_key >= KAFKA_API_KEY_MAX)
        return;
    fe_api_stats *a = &s->api[api_key];
    BUMP(a->requests, 1);
    uint64_t us = took_ns / 1000;
    BUMP(a->latency_sum_us, us);
    int b = 0;
    while (us > 1 && b < FE_LAT_BUCKETS - 1) {
        us >>= 1;
        b++;
    }
    BUMP(a->latency_us[b], 1);
}

void fe_stats_request_error(fe_stats *s, int16_t api_key) {
    if (api_key >= 0 && api_key < KAFKA_API_KEY_MAX)
        BUMP(s->api[api_key].errors, 1);
}

void fe_stats_conn_authenticated(fe_stats *s, const fe_policy *p) {
    ptrdiff_t i = p - s->conf->policies;
    if (i < 0 || i >= s->conf->n_policies)
        return;
    BUMP(s->policy_open[i], 1);
    BUMP(s->policy_total[i], 1);
}

void fe_stats_conn_policy_closed(fe_stats *s, const char *principal) {
    for (int i = 0; i < s->conf->n_policies; i++) {
        if (!strcmp(s->conf->policies[i].name, principal)) {
            BUMP(s->policy_open[i], -1);
            return;
        }
    }
}
