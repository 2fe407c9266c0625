/* fuzz_scram.c — the SASL SCRAM server (frontend/scram.h): client-first and
 * client-final parsing, nonce and channel-binding checks, proof check and
 * the strict base64 decoder, against a fixed config.
 *
 * Input: "<client-first>" or "<client-first>\n<client-final>" ('\n' can never
 * be part of a valid SCRAM message: scram.c refuses control characters).
 * For each mechanism (SHA-256, SHA-512), with the server nonce fixed:
 *   1. the whole input as client-first;
 *   2. when there is a '\n': the part before it as client-first and, if that
 *      is accepted, the part after it as client-final (a seed with a valid
 *      proof reaches the success path);
 *   3. the whole input as client-final after a fixed, valid client-first
 *      (the RFC 7677 example), so the client-final parser is reached even
 *      without a valid client-first in the input;
 * and the whole input through fe_scram_b64_decode, whose output must encode
 * back to exactly the input (it accepts canonical base64 only).
 *
 * Checks: every result is one of the documented codes, a failure always
 * comes with a reason, a message out of order gets -EPROTO, server messages
 * fit their buffers and have the documented form, and a success names a user
 * of the config that has this mechanism. Keys are derived once, in
 * eddy_fuzz_init. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "fe_config.h"
#include "fuzz.h"
#include "scram.h"

/* RFC 7677 section 3: user "user", password "pencil", this salt, 4096
 * iterations, these nonces (used for SCRAM-SHA-512 as well). */
#define RFC_SALT_B64 "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"

static fe_config conf;

static int add_user(const char *name, const char *password, unsigned mechs) {
    uint8_t salt[FE_SCRAM_MAX_SALT];
    size_t salt_len;
    if (fe_scram_b64_decode(RFC_SALT_B64, strlen(RFC_SALT_B64), salt, sizeof salt, &salt_len))
        return -1;
    fe_scram_user *u = &conf.scram_users[conf.n_scram_users++];
    snprintf(u->name, sizeof u->name, "%s", name);
    u->rights = FE_RIGHT_SEND | FE_RIGHT_LISTEN;
    for (int m = 0; m < FE_SCRAM_MECHS; m++)
        if ((mechs & (1u << m)) &&
            fe_scram_derive(m, password, strlen(password), salt, salt_len, 4096, &u->cred[m]))
            return -1;
    return 0;
}

/* the fixed client-first of step 3 must be accepted (defined below) */
static int check_fixed_first(void);

int eddy_fuzz_init(void) {
    memset(&conf, 0, sizeof conf);
    memset(conf.scram_secret, 0x5a, sizeof conf.scram_secret); /* fixed: same fake salts */
    if (add_user("user", "pencil", 3) || add_user("a,b=c", "pencil", 3) ||
        add_user("sha256-only", "pencil", 1 << FE_SCRAM_SHA_256))
        return 1;
    return check_fixed_first();
}

static void check_fail(int r, const char *why) {
    FZ_CHECK(r < 0);
    FZ_CHECK(why != NULL && why[0] != '\0');
}

/* Run client-first @p msg on a new exchange; returns it (or NULL when it
 * failed, freed). */
static fe_scram *first(int mech, const uint8_t *msg, size_t len) {
    fe_scram *s = NULL;
    if (fe_scram_new(mech, RFC_SNONCE, &s) < 0)
        return NULL; /* OOM */
    FZ_CHECK(fe_scram_step(s) == 0 && fe_scram_mech(s) == mech);
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t out_len = 0;
    const char *why = NULL;
    int r = fe_scram_client_first(s, &conf, msg, len, out, sizeof out, &out_len, &why);
    FZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG || r == -EOPNOTSUPP || r == -EACCES ||
             r == -EIO);
    if (r < 0) {
        check_fail(r, why);
        FZ_CHECK(fe_scram_step(s) == 2);
        fe_scram_free(&s);
        return NULL;
    }
    FZ_CHECK(fe_scram_step(s) == 1);
    /* "r=<cnonce><snonce>,s=<salt>,i=<n>" */
    size_t sn = strlen(RFC_SNONCE);
    FZ_CHECK(out_len > 2 + sn && out_len <= sizeof out);
    FZ_CHECK(memcmp(out, "r=", 2) == 0);
    const char *s_eq = memchr(out, ',', out_len);
    FZ_CHECK(s_eq && s_eq - out >= (ptrdiff_t)(2 + sn + 1) &&
             memcmp(s_eq - sn, RFC_SNONCE, sn) == 0 && memcmp(s_eq, ",s=", 3) == 0);
    /* a second client-first is out of order and changes nothing */
    why = NULL;
    r = fe_scram_client_first(s, &conf, msg, len, out, sizeof out, &out_len, &why);
    FZ_CHECK(r == -EPROTO);
    check_fail(r, why);
    FZ_CHECK(fe_scram_step(s) == 1);
    return s;
}

static void final(fe_scram *s, const uint8_t *msg, size_t len) {
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t out_len = 0;
    const fe_scram_user *user = NULL;
    const char *why = NULL;
    int mech = fe_scram_mech(s);
    int r = fe_scram_client_final(s, msg, len, out, sizeof out, &out_len, &user, &why);
    FZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG || r == -EACCES || r == -EIO);
    FZ_CHECK(fe_scram_step(s) == 2);
    if (r < 0) {
        check_fail(r, why);
    } else {
        FZ_CHECK(user >= &conf.scram_users[0] && user < &conf.scram_users[conf.n_scram_users]);
        FZ_CHECK(user->cred[mech].set);
        size_t h = fe_scram_hash_len(mech);
        FZ_CHECK(out_len == 2 + 4 * ((h + 2) / 3) && memcmp(out, "v=", 2) == 0);
    }
    /* anything after the end is out of order */
    why = NULL;
    r = fe_scram_client_final(s, msg, len, out, sizeof out, &out_len, &user, &why);
    FZ_CHECK(r == -EPROTO);
    check_fail(r, why);
}

static void b64(const uint8_t *data, size_t size) {
    uint8_t bin[3 * (FE_SCRAM_MAX_MSG / 4)];
    size_t n = 0;
    if (fe_scram_b64_decode((const char *)data, size, bin, sizeof bin, &n) == 0) {
        FZ_CHECK(size % 4 == 0 && n <= sizeof bin);
        unsigned char enc[FE_SCRAM_MAX_MSG + 1];
        int e = EVP_EncodeBlock(enc, bin, (int)n);
        FZ_CHECK((size_t)e == size && memcmp(enc, data, size) == 0);
    }
}

static int check_fixed_first(void) {
    for (int mech = 0; mech < FE_SCRAM_MECHS; mech++) {
        fe_scram *s = first(mech, (const uint8_t *)RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST));
        if (!s)
            return 1;
        fe_scram_free(&s);
    }
    return 0;
}

int eddy_fuzz_one(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size);
    for (int mech = 0; mech < FE_SCRAM_MECHS; mech++) {
        fe_scram *s = first(mech, data, size); /* 1 */
        if (s)
            fe_scram_free(&s);
        if (nl) { /* 2 */
            s = first(mech, data, (size_t)(nl - data));
            if (s) {
                final(s, nl + 1, size - (size_t)(nl - data) - 1);
                fe_scram_free(&s);
            }
        }
        s = first(mech, (const uint8_t *)RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST)); /* 3 */
        if (s) { /* NULL only on OOM: eddy_fuzz_init checked the message */
            final(s, data, size);
            fe_scram_free(&s);
        }
    }
    if (size <= FE_SCRAM_MAX_MSG)
        b64(data, size);
    return 0;
}
