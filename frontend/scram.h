/* scram.h — the server side of SASL SCRAM-SHA-256 and SCRAM-SHA-512
 * (RFC 5802, RFC 7677) for the users of the frontend config (scram_users).
 *
 * One exchange is two messages from the client, each answered by the server:
 *   client-first  "n,,n=<user>,r=<cnonce>"            -> server-first
 *                 "r=<cnonce><snonce>,s=<salt b64>,i=<iterations>"
 *   client-final  "c=biws,r=<cnonce><snonce>,p=<proof b64>" -> server-final
 *                 "v=<server signature b64>"
 * Kafka carries them in two SaslAuthenticate requests (or, after a v0
 * SaslHandshake, as two raw length-prefixed tokens).
 *
 * What is refused: channel binding ("p=" gs2 flag; "n" and "y" are fine),
 * mandatory extensions ("m="), delegation tokens ("tokenauth=true"), an
 * authorization id other than the username, extensions in client-final,
 * non-canonical base64, '=' in a username other than "=2C" / "=3D", and any
 * message longer than FE_SCRAM_MAX_MSG. Passwords are not SASLprep'ed (Kafka
 * does not either): they are their UTF-8 bytes.
 *
 * An unknown user (or a user without this mechanism) gets a server-first
 * message all the same, with a salt derived from the config's secret, and
 * fails at the proof: the exchange does not tell which users exist.
 *
 * Every input is a (pointer, length) view of untrusted bytes. Nothing here
 * logs. Returns 0 or -errno:
 *   -EINVAL      malformed message
 *   -E2BIG       message longer than FE_SCRAM_MAX_MSG
 *   -EOPNOTSUPP  channel binding, mandatory extension or delegation token
 *   -EACCES      unknown user, wrong password (proof), authzid not the user
 *   -EPROTO      message out of order
 *   -ENOMEM, -EIO  allocation or OpenSSL failure
 * and, on failure, a short reason without input bytes in *why. */
#ifndef EDDY_FE_SCRAM_H
#define EDDY_FE_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#include "fe_config.h"

/** Longest client message we look at. */
#define FE_SCRAM_MAX_MSG 1024
/** Room for a server message (server-first or server-final). */
#define FE_SCRAM_MAX_SERVER_MSG 512
/** Longest client nonce accepted. */
#define FE_SCRAM_MAX_NONCE 256
/** Iteration counts accepted in the config (RFC 7677 asks for >= 4096). */
#define FE_SCRAM_MIN_ITERATIONS 4096
#define FE_SCRAM_MAX_ITERATIONS 1000000
/** Default iteration count for passwords in the config. */
#define FE_SCRAM_DEFAULT_ITERATIONS 4096
/** Salt length generated for passwords in the config. */
#define FE_SCRAM_GEN_SALT_LEN 24

typedef struct fe_scram fe_scram;

/** The mechanism (enum fe_scram_mech) named @p name of @p len bytes, or -1. */
int fe_scram_mech_by_name(const char *name, size_t len);
/** "SCRAM-SHA-256" or "SCRAM-SHA-512". */
const char *fe_scram_mech_name(int mech);
/** Digest length of @p mech: 32 or 64. */
size_t fe_scram_hash_len(int mech);

/** Derive the stored credential of @p password (its UTF-8 bytes) with
 *  @p salt and @p iterations (RFC 5802 section 3) into @p out. */
int fe_scram_derive(int mech, const char *password, size_t password_len, const uint8_t *salt,
                    size_t salt_len, uint32_t iterations, fe_scram_cred *out);

/** Strict, canonical, padded base64 of @p len bytes into @p out (cap bytes).
 *  Returns 0, -EINVAL or -E2BIG. */
int fe_scram_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/** Start an exchange for @p mech. @p server_nonce is the server's part of the
 *  nonce (printable ASCII without ','), or NULL for 24 random bytes in
 *  base64 (tests pass the RFC's fixed nonce). */
int fe_scram_new(int mech, const char *server_nonce, fe_scram **out);
/** Free an exchange (keys are wiped). Accepts NULL; clears *@p s. */
void fe_scram_free(fe_scram **s);
/** 0 before client-first, 1 awaiting client-final, 2 done or failed. */
int fe_scram_step(const fe_scram *s);
/** The mechanism of the exchange. */
int fe_scram_mech(const fe_scram *s);

/** Process client-first-message @p msg against @p conf's users; write the
 *  server-first-message (not NUL-terminated) into @p out, at most @p cap
 *  bytes (FE_SCRAM_MAX_SERVER_MSG is enough), its length in *@p out_len.
 *  @p conf must outlive the exchange. */
int fe_scram_client_first(fe_scram *s, const fe_config *conf, const uint8_t *msg, size_t len,
                          char *out, size_t cap, size_t *out_len, const char **why);

/** Process client-final-message @p msg: check the nonce, the channel
 *  binding echo and the proof (in constant time). On success write the
 *  server-final-message into @p out and set *@p user to the authenticated
 *  user (a pointer into the config). Any call ends the exchange. */
int fe_scram_client_final(fe_scram *s, const uint8_t *msg, size_t len, char *out, size_t cap,
                          size_t *out_len, const fe_scram_user **user, const char **why);

#endif
