/* conn_limits.h — connection limits: total and per source address.
 *
 * One fe_conn_limits for the whole frontend. The acceptor (main thread) asks
 * fe_conn_limits_acquire() before handing a socket to a worker; the worker
 * that owns the connection calls fe_conn_limits_release() exactly once when
 * it closes. The per-address counts live in a small hash table under one
 * mutex (one lock per accept and one per close: nowhere near the request
 * path); the total is also kept in an atomic so that it can be read without
 * the lock. An address's entry is freed when its count drops to zero, so the
 * table never holds more entries than there are open connections. */
#ifndef EDDY_FE_CONN_LIMITS_H
#define EDDY_FE_CONN_LIMITS_H

#include <stdint.h>

struct sockaddr;

/** A peer address without its port: the per-address key. IPv6 addresses
 *  count one by one (not per /64); an IPv4-mapped IPv6 address counts as
 *  its IPv4 address. */
typedef struct fe_ipkey {
    uint8_t family;       /* 4, 6, or 0 (anything else: all share one key) */
    uint8_t addr[16];
} fe_ipkey;

void fe_ipkey_from_sockaddr(fe_ipkey *k, const struct sockaddr *sa);

enum fe_admit {
    FE_ADMIT_OK = 0,
    FE_ADMIT_TOTAL,       /* max_connections reached */
    FE_ADMIT_PER_IP,      /* max_connections_per_ip reached for this address */
    FE_ADMIT_NOMEM,
};

typedef struct fe_conn_limits fe_conn_limits;

/** @p max_total >= 1; @p max_per_ip 0 means no per-address limit. NULL when
 *  out of memory. */
fe_conn_limits *fe_conn_limits_new(int max_total, int max_per_ip);
void fe_conn_limits_free(fe_conn_limits *l);
/** Count one more connection from @p k, or refuse it (the refusal is
 *  counted, see fe_conn_limits_refused). Thread-safe. */
enum fe_admit fe_conn_limits_acquire(fe_conn_limits *l, const fe_ipkey *k);
/** A connection admitted by fe_conn_limits_acquire() closed. Thread-safe. */
void fe_conn_limits_release(fe_conn_limits *l, const fe_ipkey *k);
/** Connections admitted and not yet released. */
int64_t fe_conn_limits_open(const fe_conn_limits *l);
/** Connections from @p k admitted and not yet released. */
int fe_conn_limits_open_from(fe_conn_limits *l, const fe_ipkey *k);
/** Connections refused since start (either limit, or out of memory). */
uint64_t fe_conn_limits_refused(const fe_conn_limits *l);

#endif
