/* stats.h — the frontend's counters. Each worker has its own fe_stats and is
 * the only writer of it (plain increments on the hot path, no atomics shared
 * between cores); the stats endpoint sums all workers' counters when scraped,
 * reading them with relaxed atomic loads. */
#ifndef EDDY_FE_STATS_H
#define EDDY_FE_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "fe_config.h"
#include "kafka_proto.h"

/* Latency histogram, log2 of microseconds: bucket 0 counts requests that took
 * under 2 us, bucket b >= 1 those that took [2^b, 2^(b+1)) us; the last bucket
 * also takes everything longer (open-ended). */
#define FE_LAT_BUCKETS 40

typedef struct fe_api_stats {
    _Atomic uint64_t requests;
    _Atomic uint64_t errors;
    _Atomic uint64_t latency_us[FE_LAT_BUCKETS];
    _Atomic uint64_t latency_sum_us; /* sum of all latencies (Prometheus _sum) */
} fe_api_stats;

struct fe_stats {
    _Atomic uint64_t connections_total;
    _Atomic int64_t connections_open[FE_MAX_LISTENERS];
    _Atomic uint64_t bytes_in, bytes_out;
    _Atomic uint64_t records_in, records_out;
    _Atomic uint64_t glitches;      /* malformed input, refused frames */
    _Atomic uint64_t auth_failures;
    fe_api_stats api[KAFKA_API_KEY_MAX];
    /* SASL connections by the policy they authenticated with (index into
     * conf->policies): open now, and authenticated since start */
    _Atomic int64_t policy_open[FE_MAX_POLICIES];
    _Atomic uint64_t policy_total[FE_MAX_POLICIES];
    const fe_config *conf;
};

typedef struct fe_stats fe_stats;

void fe_stats_init(fe_stats *s, const fe_config *conf);
void fe_stats_conn_opened(fe_stats *s, const fe_listener_conf *l);
void fe_stats_conn_closed(fe_stats *s, const fe_listener_conf *l);
void fe_stats_bytes_in(fe_stats *s, size_t n);
void fe_stats_bytes_out(fe_stats *s, size_t n);
void fe_stats_records_in(fe_stats *s, uint64_t n);
void fe_stats_records_out(fe_stats *s, uint64_t n);
void fe_stats_glitch(fe_stats *s);
void fe_stats_auth_failure(fe_stats *s);
void fe_stats_request_done(fe_stats *s, int16_t api_key, uint64_t took_ns);
void fe_stats_request_error(fe_stats *s, int16_t api_key);
/** A SASL connection authenticated (first time) with policy @p p (an entry
 *  of conf->policies). */
void fe_stats_conn_authenticated(fe_stats *s, const fe_policy *p);
/** An authenticated SASL connection of policy @p principal closed. */
void fe_stats_conn_policy_closed(fe_stats *s, const char *principal);

#endif
