/* br_config.h — the broker's configuration file (JSON, read with jansson).
 *
 * The format is a contract with the launcher and the Docker images:
 *   data_dir (required), listen (required), advertised, controller_role,
 *   controller, id, durability, map_size_mb, stats_listen,
 *   default_partitions, log_level, auto_rebalance (controller: move
 *   partitions to balance counts whenever they differ by more than one;
 *   default true), stats_token (when set, GET /stats and /metrics on
 *   stats_listen need "Authorization: Bearer <token>"), rpc_tls (an object
 *   {"ca", "cert", "key"} of PEM paths: the RPC listener and every RPC
 *   client use mutual TLS; all members of a cluster must agree), rpc_local
 *   (default true: listen also on an abstract unix socket of a random name,
 *   announced in the cluster map, which peers on the same host use instead
 *   of TCP; common/rpc_local.h).
 * Unknown keys and bad values are errors with a message naming the key. */
#ifndef EDDY_BR_CONFIG_H
#define EDDY_BR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

typedef struct br_config {
    char *data_dir;            /* created if missing */
    char *listen;              /* RPC listener host:port */
    char *advertised;          /* address given to the controller */
    bool controller_role;
    char *controller;          /* controller's RPC address; NULL with controller_role */
    int32_t id;                /* -1: allocated by the controller, kept in the data dir */
    bool sync;                 /* durability "sync" (true) or "nosync" */
    uint64_t map_size_mb;
    char *stats_listen;        /* NULL when absent */
    char *stats_token;         /* NULL: the stats endpoint needs no token */
    char *rpc_tls_ca;          /* "rpc_tls": {"ca","cert","key"} PEM paths: */
    char *rpc_tls_cert;        /* mutual TLS on the RPC listener and every */
    char *rpc_tls_key;         /* RPC client (rpc_tls.h); all NULL: plaintext */
    int32_t default_partitions;
    bool auto_rebalance;
    bool rpc_local;            /* listen on a local socket too (rpc_local.h) */
    enum eddy_log_level log_level;
} br_config;

/** Fill @p c with the defaults (no strings set). */
void br_config_defaults(br_config *c);

/** Parse the JSON text @p json into @p c (defaults first). On failure returns
 *  -EINVAL (or -ENOMEM) and writes a message naming the offending key into
 *  @p err (@p errlen bytes). @p c is left freeable either way. */
int br_config_parse(const char *json, br_config *c, char *err, size_t errlen);

/** Read and parse the file @p path; as br_config_parse, plus -errno when the
 *  file cannot be read. */
int br_config_load(const char *path, br_config *c, char *err, size_t errlen);

/** Deep-copy @p src into @p dst. Returns 0 or -ENOMEM (dst freeable). */
int br_config_copy(br_config *dst, const br_config *src);

/** Free the strings of @p c and reset it to the defaults. Accepts NULL. */
void br_config_free(br_config *c);

/** Split "host:port" (host may be [v6]) into @p host (hostlen bytes) and
 *  *port. Returns 0 or -EINVAL. */
int br_config_split_addr(const char *addr, char *host, size_t hostlen, int *port);

#endif
