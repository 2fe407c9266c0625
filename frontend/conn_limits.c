#include "conn_limits.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Chained hash, fixed bucket count: with the default 10000 connections from
 * as many addresses a chain is ~2.5 entries long. */
#define LIM_BUCKETS 4096

typedef struct ip_ent {
    fe_ipkey key;
    int count;
    struct ip_ent *next;
} ip_ent;

struct fe_conn_limits {
    int max_total;
    int max_per_ip;
    pthread_mutex_t lock;
    _Atomic int64_t open;       /* written under lock, read without */
    _Atomic uint64_t refused;
    ip_ent *buckets[LIM_BUCKETS];
};

void fe_ipkey_from_sockaddr(fe_ipkey *k, const struct sockaddr *sa) {
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(k, 0, sizeof *k);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        k->family = 4;
        memcpy(k->addr, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *a = (const uint8_t *)&in6->sin6_addr;
        if (!memcmp(a, v4mapped, sizeof v4mapped)) {
            k->family = 4;
            memcpy(k->addr, a + 12, 4);
        } else {
            k->family = 6;
            memcpy(k->addr, a, 16);
        }
    }
}

static unsigned key_hash(const fe_ipkey *k) {
    uint32_t h = 2166136261u; /* FNV-1a */
    h = (h ^ k->family) * 16777619u;
    for (int i = 0; i < 16; i++)
        h = (h ^ k->addr[i]) * 16777619u;
    return h % LIM_BUCKETS;
}

static bool key_eq(const fe_ipkey *a, const fe_ipkey *b) {
    return a->family == b->family && !memcmp(a->addr, b->addr, sizeof a->addr);
}

fe_conn_limits *fe_conn_limits_new(int max_total, int max_per_ip) {
    fe_conn_limits *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->max_total = max_total;
    l->max_per_ip = max_per_ip;
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void fe_conn_limits_free(fe_conn_limits *l) {
    if (!l)
        return;
    for (int b = 0; b < LIM_BUCKETS; b++) {
        ip_ent *e = l->buckets[b];
        while (e) {
            ip_ent *next = e->next;
            free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&l->lock);
    free(l);
}

enum fe_admit fe_conn_limits_acquire(fe_conn_limits *l, const fe_ipkey *k) {
    enum fe_admit r = FE_ADMIT_OK;
    pthread_mutex_lock(&l->lock);
    int64_t open = atomic_load_explicit(&l->open, memory_order_relaxed);
    ip_ent **slot = &l->buckets[key_hash(k)], *e = *slot;
    while (e && !key_eq(&e->key, k))
        e = e->next;
    if (open >= l->max_total) {
        r = FE_ADMIT_TOTAL;
    } else if (l->max_per_ip > 0 && e && e->count >= l->max_per_ip) {
        r = FE_ADMIT_PER_IP;
    } else if (!e && !(e = calloc(1, sizeof *e))) {
        r = FE_ADMIT_NOMEM;
    } else {
        if (e->count == 0) {
            e->key = *k;
            e->next = *slot;
            *slot = e;
        }
        e->count++;
        atomic_store_explicit(&l->open, open + 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&l->lock);
    if (r != FE_ADMIT_OK)
        atomic_fetch_add_explicit(&l->refused, 1, memory_order_relaxed);
    return r;
}

void fe_conn_limits_release(fe_conn_limits *l, const fe_ipkey *k) {
    pthread_mutex_lock(&l->lock);
    ip_ent **pp = &l->buckets[key_hash(k)];
    while (*pp && !key_eq(&(*pp)->key, k))
        pp = &(*pp)->next;
    ip_ent *e = *pp;
    if (e) { /* always found: every release matches an acquire */
        if (--e->count == 0) {
            *pp = e->next;
            free(e);
        }
        atomic_store_explicit(&l->open, atomic_load_explicit(&l->open, memory_order_relaxed) - 1,
                              memory_order_relaxed);
    }
    pthread_mutex_unlock(&l->lock);
}

int64_t fe_conn_limits_open(const fe_conn_limits *l) {
    return atomic_load_explicit(&l->open, memory_order_relaxed);
}

int fe_conn_limits_open_from(fe_conn_limits *l, const fe_ipkey *k) {
    pthread_mutex_lock(&l->lock);
    ip_ent *e = l->buckets[key_hash(k)];
    while (e && !key_eq(&e->key, k))
        e = e->next;
    int n = e ? e->count : 0;
    pthread_mutex_unlock(&l->lock);
    return n;
}

uint64_t fe_conn_limits_refused(const fe_conn_limits *l) {
    return atomic_load_explicit(&l->refused, memory_order_relaxed);
}
