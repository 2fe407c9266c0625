/* sas.h — Event Hubs credentials: the SASL PLAIN message, connection strings
 * and SAS tokens, checked against the configured shared access policies.
 *
 * Clients authenticate with SASL PLAIN, username `$ConnectionString` and as
 * password either a connection string
 *   Endpoint=sb://<host>/;SharedAccessKeyName=<policy>;SharedAccessKey=<key>[;EntityPath=<topic>]
 * or a SAS token
 *   SharedAccessSignature sr=<url-encoded uri>&sig=<url-encoded base64>&se=<unix expiry>&skn=<policy>
 * where sig = base64(HMAC-SHA256(key string bytes, "<sr as sent>\n<se>")).
 *
 * Every input is a (pointer, length) view of untrusted bytes: nothing here
 * assumes a NUL terminator, and nothing here logs (the inputs hold keys).
 * Keys are compared in constant time. Returns 0 or -errno:
 *   -EINVAL      malformed (missing part, bad encoding, bad topic name, ...)
 *   -E2BIG       input longer than FE_SAS_MAX_LEN
 *   -EACCES      unknown policy or wrong key / signature
 *   -EKEYEXPIRED SAS token past its expiry
 * and, on failure, a short human-readable reason (never containing input
 * bytes) in *why, fit for a SaslAuthenticate error_message. */
#ifndef EDDY_FE_SAS_H
#define EDDY_FE_SAS_H

#include <stddef.h>
#include <stdint.h>

#include "fe_config.h"

/** Longest password (connection string or token) we look at. */
#define FE_SAS_MAX_LEN 4096

/** The SASL PLAIN username that announces Event Hubs credentials. */
#define FE_SAS_USERNAME "$ConnectionString"

/** Who a verified credential speaks for. */
typedef struct fe_sas_identity {
    const fe_policy *policy;   /* points into the config */
    char entity_path[256];     /* topic scope, "" for the whole namespace */
    int64_t expiry_ms;         /* wall-clock expiry (SAS token), 0 for none */
} fe_sas_identity;

/** Split a SASL PLAIN message `authzid NUL authcid NUL passwd` (RFC 4616)
 *  of @p len bytes into views. A non-empty authzid must equal the authcid.
 *  Returns 0 or -EINVAL. */
int fe_sas_plain_split(const uint8_t *msg, size_t len, const char **user, size_t *user_len,
                       const char **pass, size_t *pass_len, const char **why);

/** Verify a connection string against @p conf's policies; fill @p out. */
int fe_sas_verify_conn_str(const fe_config *conf, const char *s, size_t len,
                           fe_sas_identity *out, const char **why);

/** Verify a SAS token (with its "SharedAccessSignature " prefix) against
 *  @p conf's policies at wall-clock time @p now_ms; fill @p out. */
int fe_sas_verify_token(const fe_config *conf, const char *s, size_t len, int64_t now_ms,
                        fe_sas_identity *out, const char **why);

/** Verify a `$ConnectionString` password of either form. */
int fe_sas_verify_password(const fe_config *conf, const char *s, size_t len, int64_t now_ms,
                           fe_sas_identity *out, const char **why);

/** Verify a whole SASL PLAIN message: username `$ConnectionString` and a
 *  password of either form. */
int fe_sas_verify_plain(const fe_config *conf, const uint8_t *msg, size_t len, int64_t now_ms,
                        fe_sas_identity *out, const char **why);

#endif
