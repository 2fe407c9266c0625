/* fe_config.h — the frontend's configuration, loaded once from JSON and then
 * read-only (shared by every worker thread without locks). */
#ifndef EDDY_FE_CONFIG_H
#define EDDY_FE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FE_MAX_LISTENERS 8
#define FE_MAX_POLICIES 64

enum fe_right { FE_RIGHT_SEND = 1, FE_RIGHT_LISTEN = 2, FE_RIGHT_MANAGE = 4 };

typedef struct fe_listener_conf {
    char name[32];
    char listen[256];      /* host:port to bind */
    char adv_host[256];    /* advertised host, as clients must reach it */
    int adv_port;
    bool tls;
    bool sasl;
} fe_listener_conf;

typedef struct fe_policy {
    char name[128];
    char key[256];
    unsigned rights;       /* fe_right bits */
} fe_policy;

/* SCRAM users (scram.h): the stored credential per mechanism, RFC 5802. */
#define FE_MAX_SCRAM_USERS 64
#define FE_SCRAM_MAX_SALT 64
#define FE_SCRAM_MAX_KEY 64    /* SHA-512 digest */
enum fe_scram_mech { FE_SCRAM_SHA_256 = 0, FE_SCRAM_SHA_512 = 1, FE_SCRAM_MECHS = 2 };

typedef struct fe_scram_cred {
    bool set;              /* this user may use this mechanism */
    uint8_t salt[FE_SCRAM_MAX_SALT];
    size_t salt_len;
    uint32_t iterations;
    uint8_t stored_key[FE_SCRAM_MAX_KEY];  /* H(ClientKey), hash length bytes */
    uint8_t server_key[FE_SCRAM_MAX_KEY];
} fe_scram_cred;

typedef struct fe_scram_user {
    char name[128];        /* the SCRAM username (unescaped); the principal */
    unsigned rights;       /* fe_right bits */
    fe_scram_cred cred[FE_SCRAM_MECHS];
} fe_scram_user;

typedef struct fe_config {
    int32_t node_id;
    char controller[256];
    fe_listener_conf listeners[FE_MAX_LISTENERS];
    int n_listeners;
    char tls_cert[1024];
    char tls_key[1024];
    /* "rpc_tls": {"ca","cert","key"}: mutual TLS on every RPC connection to
     * the brokers (rpc_tls.h); empty: plaintext. Must match the brokers. */
    char rpc_tls_ca[1024];
    char rpc_tls_cert[1024];
    char rpc_tls_key[1024];
    fe_policy policies[FE_MAX_POLICIES];
    int n_policies;
    char stats_listen[256];     /* empty: no stats endpoint */
    char stats_token[256];      /* non-empty: /stats and /metrics need "Bearer <token>" */
    int workers;                /* 0: number of cores */
    size_t max_request_bytes;   /* hard cap on a request frame */
    size_t max_request_bytes_unauth; /* cap before SASL succeeds */
    int max_inflight;           /* requests in flight per connection */
    int max_connections;        /* client connections open at once, all listeners */
    int max_connections_per_ip; /* ... from one source address; 0: no per-address limit */
    int idle_timeout_ms;        /* close a connection idle this long; 0: never */
    int auth_timeout_ms;        /* SASL listeners: close if not authenticated by then */
    bool auto_create_topics;
    int request_timeout_ms;     /* RPC timeout for non-fetch calls */
    int64_t fetch_ahead_bytes;  /* memory for Fetch read-ahead (fetch_ahead.h); 0: off */
    bool rpc_local;             /* reach brokers on this host by their local
                                 * socket when they announce one (rpc_local.h) */
    bool allow_sasl_plaintext;
    fe_scram_user scram_users[FE_MAX_SCRAM_USERS];
    int n_scram_users;
    uint8_t scram_secret[32];   /* random per load: salts for unknown users */
} fe_config;

/** Load and validate @p path. On failure returns -errno and writes a
 *  human-readable reason into @p err. */
int fe_config_load(const char *path, fe_config *out, char *err, size_t errlen);

#endif
