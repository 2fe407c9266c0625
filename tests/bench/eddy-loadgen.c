/*
 * eddy-loadgen: a Kafka load generator on librdkafka, for comparing Eddy with
 * Apache Kafka (tests/bench/compare-kafka) with the same client on both sides.
 *
 *   eddy-loadgen produce -b HOST:PORT -t TOPIC [-P 16] [-n 1000000] [-s 1024]
 *   eddy-loadgen consume -b HOST:PORT -t TOPIC [-n 0 = the whole backlog]
 *   eddy-loadgen latency -b HOST:PORT -t TOPIC [-r 50000] [-d 30]
 *
 * produce  N messages of S bytes as fast as possible (acks=all, linger.ms,
 *          batch.size, no compression) to a topic with P partitions, created
 *          through the admin API when missing.
 * consume  assign() all partitions from the beginning and read until N
 *          messages (default: the sum of the high watermarks at start).
 * latency  produce at a fixed rate R msg/s for D seconds; latency of each
 *          message from produce() to its delivery report.
 *
 * Prints ONE line of key=value results on stdout (diagnostics on stderr),
 * exits 0 only when every message was delivered / read.
 *
 * Security: --security-protocol SASL_SSL --username U --password P --ca FILE
 * (SASL PLAIN), or any librdkafka property with -X key=value.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define MAX_X 64

static struct {
    const char *mode;
    const char *bootstrap;
    const char *topic;
    int partitions;
    long long messages;
    int size;
    const char *acks;
    int linger_ms;
    int batch_size;
    long rate;
    double duration;
    bool round_robin;
    bool create;
    const char *security_protocol;
    const char *sasl_mechanism;
    const char *username;
    const char *password;
    const char *ca;
    const char *label;
    double timeout_s;
    const char *xkeys[MAX_X];
    const char *xvals[MAX_X];
    int nx;
    bool verbose;
} opt = {
    .topic = "eddy-bench",
    .partitions = 16,
    .messages = -1,
    .size = 1024,
    .acks = "all",
    .linger_ms = 5,
    .batch_size = 1048576,
    .rate = 50000,
    .duration = 30,
    .create = true,
    .sasl_mechanism = "PLAIN",
    .timeout_s = 60,
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("eddy-loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("eddy-loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v) {
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
        die("config %s=%s: %s", k, v, err);
}

static void conf_seti(rd_kafka_conf_t *conf, const char *k, long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    conf_set(conf, k, buf);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf) {
    (void)rk;
    if (level <= 4 || opt.verbose)
        fprintf(stderr, "eddy-loadgen: rdkafka %s: %s\n", fac, buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *op) {
    (void)rk;
    (void)op;
    note("error: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    if (err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION)
        stop_flag = 1;
}

/* Common configuration: bootstrap, security, -X overrides (applied last). */
static rd_kafka_conf_t *base_conf(void) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", opt.bootstrap);
    conf_set(conf, "client.id", "eddy-loadgen");
    if (opt.security_protocol)
        conf_set(conf, "security.protocol", opt.security_protocol);
    if (opt.username) {
        conf_set(conf, "sasl.mechanisms", opt.sasl_mechanism);
        conf_set(conf, "sasl.username", opt.username);
        conf_set(conf, "sasl.password", opt.password ? opt.password : "");
    }
    if (opt.ca)
        conf_set(conf, "ssl.ca.location", opt.ca);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    return conf;
}

static void apply_x(rd_kafka_conf_t *conf) {
    for (int i = 0; i < opt.nx; i++)
        conf_set(conf, opt.xkeys[i], opt.xvals[i]);
}

/* Number of partitions of the topic with a leader, 0 when unknown, -1 on
 * error. Asks for all topics: a metadata request naming the topic could make
 * a broker with auto-creation create it with its default partition count. */
static int topic_partitions(rd_kafka_t *rk, int timeout_ms) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (err) {
        note("metadata: %s", rd_kafka_err2str(err));
        return -1;
    }
    int n = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (strcmp(t->topic, opt.topic) != 0 || t->err)
            continue;
        for (int p = 0; p < t->partition_cnt; p++)
            if (t->partitions[p].leader >= 0 && !t->partitions[p].err)
                n++;
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Create the topic with opt.partitions partitions unless it exists; wait
 * until metadata shows its partitions with leaders. */
static void ensure_topic(rd_kafka_t *rk) {
    int have = topic_partitions(rk, 10000);
    if (have > 0) {
        if (have != opt.partitions)
            note("topic %s exists with %d partitions (asked %d); using it",
                 opt.topic, have, opt.partitions);
        return;
    }
    char err[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(opt.topic, opt.partitions, 1, err, sizeof err);
    if (!nt)
        die("NewTopic: %s", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(ao, 30000, err, sizeof err);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 40000);
    if (!ev)
        die("CreateTopics: no answer within 40 s");
    if (rd_kafka_event_error(ev))
        die("CreateTopics: %s", rd_kafka_event_error_string(ev));
    const rd_kafka_CreateTopics_result_t *res =
        rd_kafka_event_CreateTopics_result(ev);
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(res, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            die("CreateTopics %s: %s (%s)", rd_kafka_topic_result_name(tr[i]),
                rd_kafka_err2name(e),
                rd_kafka_topic_result_error_string(tr[i])
                    ? rd_kafka_topic_result_error_string(tr[i]) : "");
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    int64_t deadline = now_ns() + (int64_t)30 * 1000000000;
    while ((have = topic_partitions(rk, 5000)) < opt.partitions) {
        if (now_ns() > deadline || stop_flag)
            die("topic %s: %d of %d partitions with a leader after 30 s",
                opt.topic, have, opt.partitions);
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* ------------------------------------------------------------ produce */

static struct {
    long long delivered;
    long long failed;
    long long bytes;
    rd_kafka_resp_err_t first_err;
    /* latency mode */
    uint32_t *lat_us;
    size_t lat_n, lat_cap;
} dr;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op) {
    (void)rk;
    (void)op;
    if (m->err) {
        if (!dr.failed)
            dr.first_err = m->err;
        dr.failed++;
        return;
    }
    dr.delivered++;
    dr.bytes += (long long)m->len;
    if (dr.lat_us && m->_private) {
        int64_t sent = (int64_t)(intptr_t)m->_private;
        int64_t us = (now_ns() - sent) / 1000;
        if (dr.lat_n < dr.lat_cap)
            dr.lat_us[dr.lat_n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    }
}

static rd_kafka_t *new_producer(int linger_ms) {
    rd_kafka_conf_t *conf = base_conf();
    conf_set(conf, "acks", opt.acks);
    conf_seti(conf, "linger.ms", linger_ms);
    conf_seti(conf, "batch.size", opt.batch_size);
    conf_set(conf, "compression.type", "none");
    conf_seti(conf, "queue.buffering.max.messages", 1000000);
    conf_seti(conf, "queue.buffering.max.kbytes", 1048576);
    conf_seti(conf, "message.max.bytes", opt.batch_size + 65536 > 1000000
                                             ? opt.batch_size + 65536 : 1000000);
    conf_set(conf, "enable.idempotence", "false");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    apply_x(conf);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("producer: %s", err);
    return rk;
}

static char *make_payload(void) {
    char *p = malloc((size_t)opt.size + 1);
    if (!p)
        die("out of memory");
    /* Not compressible, not all zero. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < opt.size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (char)(x & 0xff);
    }
    return p;
}

/* produce() one message, polling while the local queue is full; false when
 * stopping. */
static bool produce_one(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int32_t part,
                        char *payload, void *opaque) {
    for (;;) {
        if (rd_kafka_produce(rkt, part, 0, payload, (size_t)opt.size, NULL, 0,
                             opaque) == 0)
            return true;
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            die("produce: %s", rd_kafka_err2str(e));
        rd_kafka_poll(rk, 1);
        if (stop_flag)
            return false;
    }
}

static void flush_all(rd_kafka_t *rk) {
    int64_t deadline = now_ns() + (int64_t)(opt.timeout_s * 1e9);
    while (rd_kafka_outq_len(rk) > 0 && !stop_flag && now_ns() < deadline)
        rd_kafka_flush(rk, 100);
}

static int cmd_produce(void) {
    if (opt.messages < 0)
        opt.messages = 1000000;
    rd_kafka_t *rk = new_producer(opt.linger_ms);
    if (opt.create)
        ensure_topic(rk);
    int nparts = topic_partitions(rk, 10000);
    if (nparts <= 0)
        die("topic %s has no partitions", opt.topic);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, opt.topic, NULL);
    char *payload = make_payload();

    int64_t t0 = now_ns();
    long long sent = 0;
    for (; sent < opt.messages && !stop_flag; sent++) {
        int32_t part = opt.round_robin ? (int32_t)(sent % nparts)
                                       : RD_KAFKA_PARTITION_UA;
        if (!produce_one(rk, rkt, part, payload, NULL))
            break;
        if ((sent & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    flush_all(rk);
    int64_t t1 = now_ns();
    double secs = (double)(t1 - t0) / 1e9;
    long long lost = sent - dr.delivered - dr.failed;
    printf("mode=produce label=%s topic=%s partitions=%d size=%d acks=%s "
           "linger_ms=%d batch_size=%d messages=%lld delivered=%lld "
           "failed=%lld undelivered=%lld bytes=%lld seconds=%.3f "
           "mbps=%.2f msgps=%.0f\n",
           opt.label ? opt.label : "-", opt.topic, nparts, opt.size, opt.acks,
           opt.linger_ms, opt.batch_size, sent, dr.delivered, dr.failed, lost,
           dr.bytes, secs, (double)dr.bytes / 1e6 / secs,
           (double)dr.delivered / secs);
    fflush(stdout);
    if (dr.failed)
        note("%lld deliveries failed, first: %s", dr.failed,
             rd_kafka_err2str(dr.first_err));
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(payload);
    return (dr.failed || lost || sent < opt.messages) ? 1 : 0;
}

/* ------------------------------------------------------------ latency */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint32_t *v, size_t n, double q) {
    if (!n)
        return 0;
    size_t i = (size_t)(q * (double)n);
    if (i >= n)
        i = n - 1;
    return v[i] / 1000.0;
}

static int cmd_latency(void) {
    if (opt.rate <= 0 || opt.duration <= 0)
        die("latency needs --rate > 0 and --duration > 0");
    long long total = (long long)((double)opt.rate * opt.duration);
    dr.lat_cap = (size_t)total + 16;
    dr.lat_us = calloc(dr.lat_cap, sizeof *dr.lat_us);
    if (!dr.lat_us)
        die("out of memory");
    rd_kafka_t *rk = new_producer(opt.linger_ms);
    if (opt.create)
        ensure_topic(rk);
    int nparts = topic_partitions(rk, 10000);
    if (nparts <= 0)
        die("topic %s has no partitions", opt.topic);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, opt.topic, NULL);
    char *payload = make_payload();

    /* Warm-up, not measured: a few messages to every partition, so that
     * connections, leaders of a topic just created and the broker's first
     * appends are ready before the clock starts. */
    for (int i = 0; i < nparts * 8 && !stop_flag; i++)
        produce_one(rk, rkt, i % nparts, payload, NULL);
    flush_all(rk);
    dr.delivered = dr.failed = dr.bytes = 0;

    /* Pacing: at each tick send what the schedule owes; the send time of a
     * message is its scheduled time (no coordinated omission when the
     * client falls behind). */
    int64_t t0 = now_ns();
    double ns_per_msg = 1e9 / (double)opt.rate;
    long long sent = 0;
    while (sent < total && !stop_flag) {
        int64_t now = now_ns();
        long long due = (long long)((double)(now - t0) / ns_per_msg) + 1;
        if (due > total)
            due = total;
        while (sent < due && !stop_flag) {
            int64_t sched = t0 + (int64_t)((double)sent * ns_per_msg);
            int32_t part = opt.round_robin ? (int32_t)(sent % nparts)
                                           : RD_KAFKA_PARTITION_UA;
            if (!produce_one(rk, rkt, part, payload, (void *)(intptr_t)sched))
                break;
            sent++;
        }
        rd_kafka_poll(rk, 0);
        int64_t next = t0 + (int64_t)((double)sent * ns_per_msg);
        int64_t wait = next - now_ns();
        if (wait > 0) {
            if (wait > 1000000)
                wait = 1000000;
            struct timespec ts = {0, (long)wait};
            nanosleep(&ts, NULL);
        }
    }
    int64_t t_send_end = now_ns();
    flush_all(rk);
    double secs = (double)(t_send_end - t0) / 1e9;
    qsort(dr.lat_us, dr.lat_n, sizeof *dr.lat_us, cmp_u32);
    double sum = 0;
    for (size_t i = 0; i < dr.lat_n; i++)
        sum += dr.lat_us[i];
    long long lost = sent - dr.delivered - dr.failed;
    printf("mode=latency label=%s topic=%s partitions=%d size=%d acks=%s "
           "linger_ms=%d rate=%ld seconds=%.3f messages=%lld delivered=%lld "
           "failed=%lld undelivered=%lld bytes=%lld achieved_msgps=%.0f mbps=%.2f "
           "avg_ms=%.3f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n",
           opt.label ? opt.label : "-", opt.topic, nparts, opt.size, opt.acks,
           opt.linger_ms, opt.rate, secs, sent, dr.delivered, dr.failed, lost,
           dr.bytes, (double)dr.delivered / secs, (double)dr.bytes / 1e6 / secs,
           dr.lat_n ? sum / (double)dr.lat_n / 1000.0 : 0.0,
           pct_ms(dr.lat_us, dr.lat_n, 0.50), pct_ms(dr.lat_us, dr.lat_n, 0.99),
           pct_ms(dr.lat_us, dr.lat_n, 0.999),
           dr.lat_n ? dr.lat_us[dr.lat_n - 1] / 1000.0 : 0.0);
    fflush(stdout);
    if (dr.failed)
        note("%lld deliveries failed, first: %s", dr.failed,
             rd_kafka_err2str(dr.first_err));
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(payload);
    free(dr.lat_us);
    return (dr.failed || lost || sent < total) ? 1 : 0;
}

/* ------------------------------------------------------------ consume */

static int cmd_consume(void) {
    rd_kafka_conf_t *conf = base_conf();
    char gid[64];
    snprintf(gid, sizeof gid, "eddy-loadgen-%ld", (long)getpid());
    /* assign() only: the group id is never joined and nothing is committed. */
    conf_set(conf, "group.id", gid);
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "enable.auto.offset.store", "false");
    conf_set(conf, "auto.offset.reset", "earliest");
    conf_set(conf, "enable.partition.eof", "false");
    conf_seti(conf, "fetch.max.bytes", 52428800);
    conf_seti(conf, "max.partition.fetch.bytes", 1048576);
    conf_seti(conf, "fetch.wait.max.ms", 500);
    conf_seti(conf, "queued.max.messages.kbytes", 131072);
    apply_x(conf);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        die("consumer: %s", err);
    rd_kafka_poll_set_consumer(rk);

    /* A topic created a moment ago may not be in every metadata answer yet. */
    int nparts = topic_partitions(rk, 10000);
    for (int i = 0; i < 50 && nparts <= 0 && !stop_flag; i++) {
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
        nparts = topic_partitions(rk, 10000);
    }
    if (nparts <= 0)
        die("topic %s has no partitions", opt.topic);
    long long target = opt.messages;
    if (target < 0) {
        target = 0;
        for (int p = 0; p < nparts; p++) {
            int64_t lo = 0, hi = 0;
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                rk, opt.topic, p, &lo, &hi, 10000);
            if (e)
                die("watermarks %s/%d: %s", opt.topic, p, rd_kafka_err2str(e));
            target += hi - lo;
        }
    }
    if (target <= 0)
        die("topic %s is empty", opt.topic);

    rd_kafka_topic_partition_list_t *tl =
        rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(tl, opt.topic, p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);

    int64_t t0 = now_ns();
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, tl);
    if (e)
        die("assign: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(tl);

    enum { BATCH = 1024 };
    rd_kafka_message_t *msgs[BATCH];
    long long got = 0, bytes = 0, errs = 0;
    int64_t last = now_ns();
    /* librdkafka may wait up to its retry backoff before the first offset
     * lookup of a partition ("no current leader ... starting offset query
     * timer"), whatever the server: report that start-up apart from the
     * rate of the stream itself. */
    int64_t t_first = 0;
    while (got < target && !stop_flag) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, BATCH);
        if (n < 0)
            die("consume: %s", rd_kafka_err2str(rd_kafka_last_error()));
        for (ssize_t i = 0; i < n; i++) {
            if (msgs[i]->err) {
                if (msgs[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    if (!errs)
                        note("consume error: %s", rd_kafka_message_errstr(msgs[i]));
                    errs++;
                }
            } else {
                if (!got)
                    t_first = now_ns();
                got++;
                bytes += (long long)msgs[i]->len;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
        if (n > 0)
            last = now_ns();
        else if (now_ns() - last > (int64_t)(opt.timeout_s * 1e9)) {
            note("no message for %.0f s; stopping at %lld of %lld", opt.timeout_s,
                 got, target);
            break;
        }
    }
    int64_t t1 = now_ns();
    double secs = (double)(t1 - t0) / 1e9;
    /* stream rate: from the first message to the last */
    double ssecs = t_first && t1 > t_first ? (double)(t1 - t_first) / 1e9 : secs;
    printf("mode=consume label=%s topic=%s partitions=%d target=%lld "
           "messages=%lld bytes=%lld errors=%lld seconds=%.3f mbps=%.2f "
           "msgps=%.0f first_ms=%.1f stream_mbps=%.2f stream_msgps=%.0f\n",
           opt.label ? opt.label : "-", opt.topic, nparts, target, got, bytes,
           errs, secs, (double)bytes / 1e6 / secs, (double)got / secs,
           t_first ? (double)(t_first - t0) / 1e6 : -1.0, (double)bytes / 1e6 / ssecs,
           (double)got / ssecs);
    fflush(stdout);
    rd_kafka_queue_destroy(q);
    rd_kafka_assign(rk, NULL);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got >= target ? 0 : 1;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f) {
    fputs(
        "usage: eddy-loadgen produce|consume|latency -b HOST:PORT [options]\n"
        "  -b, --bootstrap HOST:PORT   bootstrap servers (required)\n"
        "  -t, --topic NAME            topic (default eddy-bench)\n"
        "  -P, --partitions N          partitions when creating (default 16)\n"
        "      --no-create             do not create the topic\n"
        "  -n, --messages N            produce: messages (default 1000000);\n"
        "                              consume: stop after N (default: backlog)\n"
        "  -s, --size BYTES            message size (default 1024)\n"
        "      --acks all|1|0          (default all)\n"
        "      --linger-ms MS          (default 5)\n"
        "      --batch-size BYTES      (default 1048576)\n"
        "      --round-robin           spread messages over partitions in turn\n"
        "                              (default: librdkafka's partitioner,\n"
        "                              sticky for messages without key)\n"
        "  -r, --rate MSG/S            latency: send rate (default 50000)\n"
        "  -d, --duration SECONDS      latency: duration (default 30)\n"
        "      --security-protocol P   PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL\n"
        "      --sasl-mechanism M      (default PLAIN)\n"
        "      --username U  --password P   SASL credentials\n"
        "      --ca FILE               CA certificate (PEM) for TLS\n"
        "  -X KEY=VALUE                any librdkafka property (repeatable)\n"
        "      --timeout SECONDS       give up after this long without progress\n"
        "                              (default 60)\n"
        "      --label TEXT            copied into the result line\n"
        "  -v, --verbose               librdkafka debug-level logs on stderr\n"
        "Prints one line of key=value results on stdout.\n",
        f);
}

int main(int argc, char **argv) {
    enum {
        O_ACKS = 1000, O_LINGER, O_BATCH, O_RR, O_SECP, O_MECH, O_USER, O_PASS,
        O_CA, O_LABEL, O_NOCREATE, O_TIMEOUT
    };
    static const struct option lo[] = {
        {"bootstrap", required_argument, 0, 'b'},
        {"topic", required_argument, 0, 't'},
        {"partitions", required_argument, 0, 'P'},
        {"messages", required_argument, 0, 'n'},
        {"size", required_argument, 0, 's'},
        {"rate", required_argument, 0, 'r'},
        {"duration", required_argument, 0, 'd'},
        {"acks", required_argument, 0, O_ACKS},
        {"linger-ms", required_argument, 0, O_LINGER},
        {"batch-size", required_argument, 0, O_BATCH},
        {"round-robin", no_argument, 0, O_RR},
        {"security-protocol", required_argument, 0, O_SECP},
        {"sasl-mechanism", required_argument, 0, O_MECH},
        {"username", required_argument, 0, O_USER},
        {"password", required_argument, 0, O_PASS},
        {"ca", required_argument, 0, O_CA},
        {"label", required_argument, 0, O_LABEL},
        {"no-create", no_argument, 0, O_NOCREATE},
        {"timeout", required_argument, 0, O_TIMEOUT},
        {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    opt.mode = argv[1];
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "b:t:P:n:s:r:d:X:vh", lo, NULL)) != -1) {
        switch (c) {
        case 'b': opt.bootstrap = optarg; break;
        case 't': opt.topic = optarg; break;
        case 'P': opt.partitions = atoi(optarg); break;
        case 'n': opt.messages = atoll(optarg); break;
        case 's': opt.size = atoi(optarg); break;
        case 'r': opt.rate = atol(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case O_ACKS: opt.acks = optarg; break;
        case O_LINGER: opt.linger_ms = atoi(optarg); break;
        case O_BATCH: opt.batch_size = atoi(optarg); break;
        case O_RR: opt.round_robin = true; break;
        case O_SECP: opt.security_protocol = optarg; break;
        case O_MECH: opt.sasl_mechanism = optarg; break;
        case O_USER: opt.username = optarg; break;
        case O_PASS: opt.password = optarg; break;
        case O_CA: opt.ca = optarg; break;
        case O_LABEL: opt.label = optarg; break;
        case O_NOCREATE: opt.create = false; break;
        case O_TIMEOUT: opt.timeout_s = atof(optarg); break;
        case 'v': opt.verbose = true; break;
        case 'X': {
            char *eq = strchr(optarg, '=');
            if (!eq || opt.nx == MAX_X)
                die("-X wants KEY=VALUE (at most %d)", MAX_X);
            *eq = '\0';
            opt.xkeys[opt.nx] = optarg;
            opt.xvals[opt.nx++] = eq + 1;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc)
        die("unexpected argument %s", argv[optind]);
    if (!opt.bootstrap)
        die("--bootstrap is required");
    if (opt.size <= 0 || opt.partitions <= 0)
        die("--size and --partitions must be > 0");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (!strcmp(opt.mode, "produce"))
        return cmd_produce();
    if (!strcmp(opt.mode, "consume"))
        return cmd_consume();
    if (!strcmp(opt.mode, "latency"))
        return cmd_latency();
    die("unknown mode %s (produce, consume, latency)", opt.mode);
}
