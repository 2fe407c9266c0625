/* test_conn_limits.c — the connection limits (conn_limits.c): total and per
 * address, release frees a slot, keys, and counts that stay exact when one
 * thread acquires while others release (the acceptor / worker split). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_limits.h"
#include "unit.h"

static fe_ipkey v4(const char *s) {
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(1234)};
    inet_pton(AF_INET, s, &in.sin_addr);
    fe_ipkey k;
    fe_ipkey_from_sockaddr(&k, (struct sockaddr *)&in);
    return k;
}

static fe_ipkey v6(const char *s, uint16_t port) {
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    inet_pton(AF_INET6, s, &in6.sin6_addr);
    fe_ipkey k;
    fe_ipkey_from_sockaddr(&k, (struct sockaddr *)&in6);
    return k;
}

static void test_keys(void) {
    fe_ipkey a = v4("10.0.0.1"), b = v6("::ffff:10.0.0.1", 99), c = v6("2001:db8::1", 1),
             d = v6("2001:db8::1", 2), e = v6("2001:db8::2", 1);
    CHECK_EQ_INT(a.family, 4);
    CHECK(!memcmp(&a, &b, sizeof a)); /* v4-mapped is its IPv4 address */
    CHECK_EQ_INT(c.family, 6);
    CHECK(!memcmp(&c, &d, sizeof c)); /* the port is not part of the key */
    CHECK(memcmp(&c, &e, sizeof c) != 0);
}

static void test_per_ip_and_total(void) {
    fe_conn_limits *l = fe_conn_limits_new(8, 3);
    fe_ipkey a = v4("10.0.0.1"), b = v4("10.0.0.2"), c = v6("2001:db8::1", 1);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(fe_conn_limits_acquire(l, &a), FE_ADMIT_OK);
    CHECK_EQ_INT(fe_conn_limits_acquire(l, &a), FE_ADMIT_PER_IP);
    CHECK_EQ_INT(fe_conn_limits_open_from(l, &a), 3);
    CHECK_EQ_INT(fe_conn_limits_refused(l), 1);
    /* another address is not affected */
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(fe_conn_limits_acquire(l, &b), FE_ADMIT_OK);
    CHECK_EQ_INT(fe_conn_limits_acquire(l, &c), FE_ADMIT_OK);
    CHECK_EQ_INT(fe_conn_limits_acquire(l, &c), FE_ADMIT_OK);
    CHECK_EQ_INT(fe_conn_limits_open(l), 8);
    /* total reached: even an address under its own limit is refused */
    fe_ipkey d = v4("10.0.0.9");
    CHECK_EQ_INT(fe_conn_limits_acquire(l, &d), FE_ADMIT_TOTAL);
    CHECK_EQ_INT(fe_conn_limits_open_from(l, &d), 0);
    CHECK_EQ_INT(fe_conn_limits_refused(l), 2);
    /* a release frees a slot of that address and of the total */
    fe_conn_limits_release(l, &a);
    CHECK_EQ_INT(fe_conn_limits_open(l), 7);
    CHECK_EQ_INT(fe_conn_limits_acquire(l, &d), FE_ADMIT_OK);
    CHECK_EQ_INT(fe_conn_limits_acquire(l, &a), FE_ADMIT_TOTAL);
    fe_conn_limits_release(l, &d);
    CHECK_EQ_INT(fe_conn_limits_open_from(l, &d), 0);
    CHECK_EQ_INT(fe_conn_limits_acquire(l, &a), FE_ADMIT_OK);
    CHECK_EQ_INT(fe_conn_limits_acquire(l, &a), FE_ADMIT_TOTAL);
    /* release everything: all counts back to zero */
    for (int i = 0; i < 3; i++) {
        fe_conn_limits_release(l, &a);
        fe_conn_limits_release(l, &b);
    }
    fe_conn_limits_release(l, &c);
    fe_conn_limits_release(l, &c);
    CHECK_EQ_INT(fe_conn_limits_open(l), 0);
    CHECK_EQ_INT(fe_conn_limits_open_from(l, &a), 0);
    CHECK_EQ_INT(fe_conn_limits_open_from(l, &c), 0);
    CHECK_EQ_INT(fe_conn_limits_refused(l), 4);
    fe_conn_limits_free(l);
}

static void test_no_per_ip_limit(void) {
    fe_conn_limits *l = fe_conn_limits_new(5, 0);
    fe_ipkey a = v4("192.0.2.1");
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(fe_conn_limits_acquire(l, &a), FE_ADMIT_OK);
    CHECK_EQ_INT(fe_conn_limits_acquire(l, &a), FE_ADMIT_TOTAL);
    fe_conn_limits_free(l); /* frees entries still counted */
}

/* Many addresses landing in the same buckets: 4096 buckets, 20000 keys. */
static void test_many_addresses(void) {
    fe_conn_limits *l = fe_conn_limits_new(100000, 2);
    fe_ipkey *k = calloc(20000, sizeof *k);
    for (int i = 0; i < 20000; i++) {
        k[i].family = 6;
        memcpy(k[i].addr, &i, sizeof i);
        CHECK_EQ_INT(fe_conn_limits_acquire(l, &k[i]), FE_ADMIT_OK);
        CHECK_EQ_INT(fe_conn_limits_acquire(l, &k[i]), FE_ADMIT_OK);
    }
    int bad = 0;
    for (int i = 0; i < 20000; i++)
        bad += fe_conn_limits_acquire(l, &k[i]) != FE_ADMIT_PER_IP;
    CHECK_EQ_INT(bad, 0);
    for (int i = 19999; i >= 0; i -= 2)
        fe_conn_limits_release(l, &k[i]);
    for (int i = 0; i < 20000; i++)
        bad += fe_conn_limits_open_from(l, &k[i]) != (i % 2 ? 1 : 2);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(fe_conn_limits_open(l), 30000);
    fe_conn_limits_free(l);
    free(k);
}

/* One acceptor thread acquires, four "workers" release what it admitted;
 * at the end every count is zero and nothing admitted went over a limit. */
#define N_REL 4
#define N_ADDR 16
#define ROUNDS 200000

typedef struct ring {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    fe_ipkey items[1024];
    unsigned head, tail;
    bool done;
} ring;

static fe_conn_limits *shared;
static ring rings[N_REL];
static _Atomic int over_limit;

static void *releaser(void *arg) {
    ring *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (r->head == r->tail && !r->done)
            pthread_cond_wait(&r->cond, &r->lock);
        if (r->head == r->tail && r->done) {
            pthread_mutex_unlock(&r->lock);
            return NULL;
        }
        fe_ipkey k = r->items[r->head++ % 1024];
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        if (fe_conn_limits_open_from(shared, &k) > 3 || fe_conn_limits_open(shared) > 20)
            atomic_fetch_add(&over_limit, 1);
        fe_conn_limits_release(shared, &k);
    }
}

static void test_threads(void) {
    shared = fe_conn_limits_new(20, 3);
    pthread_t t[N_REL];
    for (int i = 0; i < N_REL; i++) {
        pthread_mutex_init(&rings[i].lock, NULL);
        pthread_cond_init(&rings[i].cond, NULL);
        pthread_create(&t[i], NULL, releaser, &rings[i]);
    }
    fe_ipkey keys[N_ADDR];
    for (int i = 0; i < N_ADDR; i++) {
        memset(&keys[i], 0, sizeof keys[i]);
        keys[i].family = 4;
        keys[i].addr[3] = (uint8_t)i;
    }
    long admitted = 0, refused = 0;
    for (int n = 0; n < ROUNDS; n++) {
        fe_ipkey *k = &keys[n % N_ADDR];
        enum fe_admit a = fe_conn_limits_acquire(shared, k);
        if (a != FE_ADMIT_OK) {
            refused++;
            continue;
        }
        admitted++;
        ring *r = &rings[n % N_REL];
        pthread_mutex_lock(&r->lock);
        while (r->tail - r->head == 1024)
            pthread_cond_wait(&r->cond, &r->lock);
        r->items[r->tail++ % 1024] = *k;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
    }
    for (int i = 0; i < N_REL; i++) {
        pthread_mutex_lock(&rings[i].lock);
        rings[i].done = true;
        pthread_cond_broadcast(&rings[i].cond);
        pthread_mutex_unlock(&rings[i].lock);
        pthread_join(t[i], NULL);
    }
    CHECK(admitted > 0);
    CHECK_EQ_INT(admitted + refused, ROUNDS);
    CHECK_EQ_INT((long)fe_conn_limits_refused(shared), refused);
    CHECK_EQ_INT(fe_conn_limits_open(shared), 0);
    int left = 0;
    for (int i = 0; i < N_ADDR; i++)
        left += fe_conn_limits_open_from(shared, &keys[i]);
    CHECK_EQ_INT(left, 0);
    CHECK_EQ_INT(atomic_load(&over_limit), 0);
    fe_conn_limits_free(shared);
}

int main(void) {
    RUN(test_keys);
    RUN(test_per_ip_and_total);
    RUN(test_no_per_ip_limit);
    RUN(test_many_addresses);
    RUN(test_threads);
    return unit_done();
}
