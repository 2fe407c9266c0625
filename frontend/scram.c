/* scram.c — SASL SCRAM-SHA-256/512, server side (see scram.h).
 *
 * The parser walks (pointer, length) views with an explicit position and
 * never reads past the end; everything it keeps goes into fixed buffers of
 * the exchange, sized by FE_SCRAM_MAX_MSG. The proof is checked the RFC 5802
 * way: ClientKey = proof XOR HMAC(StoredKey, AuthMessage), and H(ClientKey)
 * is compared with StoredKey by CRYPTO_memcmp. */
#include "scram.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* The server's part of the nonce: at most this many characters. */
#define SCRAM_MAX_SNONCE 64
/* Random bytes behind a generated server nonce (base64: 32 characters). */
#define SCRAM_SNONCE_BYTES 24

struct fe_scram {
    int mech;
    int step;                         /* see fe_scram_step() */
    const fe_scram_user *user;        /* NULL: unknown user, fails at the proof */
    const fe_scram_cred *cred;        /* the user's, or &fake */
    fe_scram_cred fake;
    char snonce[SCRAM_MAX_SNONCE];
    size_t snonce_len;
    char nonce[FE_SCRAM_MAX_NONCE + SCRAM_MAX_SNONCE]; /* client + server part */
    size_t nonce_len;
    char gs2[FE_SCRAM_MAX_MSG];       /* gs2-header, for the c= echo */
    size_t gs2_len;
    char bare[FE_SCRAM_MAX_MSG];      /* client-first-message-bare */
    size_t bare_len;
    char server_first[FE_SCRAM_MAX_SERVER_MSG];
    size_t server_first_len;
};

/* A view of untrusted bytes and a read position in it. */
typedef struct cur {
    const char *p;
    size_t n;
    size_t i;
} cur;

static const char *const mech_names[FE_SCRAM_MECHS] = {"SCRAM-SHA-256", "SCRAM-SHA-512"};

int fe_scram_mech_by_name(const char *name, size_t len) {
    for (int m = 0; m < FE_SCRAM_MECHS; m++)
        if (strlen(mech_names[m]) == len && memcmp(mech_names[m], name, len) == 0)
            return m;
    return -1;
}

const char *fe_scram_mech_name(int mech) {
    return mech >= 0 && mech < FE_SCRAM_MECHS ? mech_names[mech] : "?";
}

size_t fe_scram_hash_len(int mech) { return mech == FE_SCRAM_SHA_512 ? 64 : 32; }

static const EVP_MD *mech_md(int mech) {
    return mech == FE_SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
}

/* ------------------------------------------------------------ base64 */

static int b64val(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int fe_scram_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len) {
    if (len % 4)
        return -EINVAL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + (size_t)k];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64val(c)) < 0) {
                return -EINVAL; /* '=' in the middle, or not base64 */
            }
        }
        /* canonical: the bits that padding drops must be zero */
        if ((pad == 2 && (v[1] & 0x0f)) || (pad == 1 && (v[2] & 0x03)))
            return -EINVAL;
        uint32_t q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        size_t take = 3 - (size_t)pad;
        if (o + take > cap)
            return -E2BIG;
        out[o++] = (uint8_t)(q >> 16);
        if (take > 1)
            out[o++] = (uint8_t)(q >> 8);
        if (take > 2)
            out[o++] = (uint8_t)q;
    }
    *out_len = o;
    return 0;
}

/* Base64 of @p n bytes appended at out[*pos], within @p cap. */
static int b64_append(char *out, size_t cap, size_t *pos, const uint8_t *in, size_t n) {
    size_t need = 4 * ((n + 2) / 3);
    if (*pos + need + 1 > cap)
        return -E2BIG;
    EVP_EncodeBlock((unsigned char *)out + *pos, in, (int)n);
    *pos += need;
    return 0;
}

static int append(char *out, size_t cap, size_t *pos, const void *p, size_t n) {
    if (*pos + n > cap)
        return -E2BIG;
    memcpy(out + *pos, p, n);
    *pos += n;
    return 0;
}

/* ------------------------------------------------------------ crypto */

static int hmac(int mech, const uint8_t *key, size_t key_len, const void *msg, size_t len,
                uint8_t *out) {
    unsigned out_len = 0;
    if (!HMAC(mech_md(mech), key, (int)key_len, msg, len, out, &out_len) ||
        out_len != fe_scram_hash_len(mech))
        return -EIO;
    return 0;
}

static int digest(int mech, const uint8_t *in, size_t len, uint8_t *out) {
    unsigned out_len = 0;
    if (EVP_Digest(in, len, out, &out_len, mech_md(mech), NULL) != 1 ||
        out_len != fe_scram_hash_len(mech))
        return -EIO;
    return 0;
}

int fe_scram_derive(int mech, const char *password, size_t password_len, const uint8_t *salt,
                    size_t salt_len, uint32_t iterations, fe_scram_cred *out) {
    if (mech < 0 || mech >= FE_SCRAM_MECHS || salt_len == 0 || salt_len > FE_SCRAM_MAX_SALT ||
        iterations < 1 || iterations > FE_SCRAM_MAX_ITERATIONS || password_len > INT32_MAX)
        return -EINVAL;
    size_t h = fe_scram_hash_len(mech);
    uint8_t salted[FE_SCRAM_MAX_KEY], client_key[FE_SCRAM_MAX_KEY];
    int r = -EIO;
    if (PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, (int)iterations,
                          mech_md(mech), (int)h, salted) != 1)
        goto out;
    memset(out, 0, sizeof *out);
    if (hmac(mech, salted, h, "Client Key", 10, client_key) < 0 ||
        digest(mech, client_key, h, out->stored_key) < 0 ||
        hmac(mech, salted, h, "Server Key", 10, out->server_key) < 0)
        goto out;
    memcpy(out->salt, salt, salt_len);
    out->salt_len = salt_len;
    out->iterations = iterations;
    out->set = true;
    r = 0;
out:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    return r;
}

/* ------------------------------------------------------------ lifecycle */

static bool nonce_char(char c) { return c >= 0x21 && c <= 0x7e && c != ','; }

int fe_scram_new(int mech, const char *server_nonce, fe_scram **out) {
    if (mech < 0 || mech >= FE_SCRAM_MECHS)
        return -EINVAL;
    fe_scram *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->mech = mech;
    if (server_nonce) {
        size_t n = strlen(server_nonce);
        bool ok = n > 0 && n <= SCRAM_MAX_SNONCE;
        for (size_t i = 0; ok && i < n; i++)
            ok = nonce_char(server_nonce[i]);
        if (!ok) {
            free(s);
            return -EINVAL;
        }
        memcpy(s->snonce, server_nonce, n);
        s->snonce_len = n;
    } else {
        uint8_t rnd[SCRAM_SNONCE_BYTES];
        char text[4 * SCRAM_SNONCE_BYTES / 3 + 1];
        if (RAND_bytes(rnd, sizeof rnd) != 1) {
            free(s);
            return -EIO;
        }
        EVP_EncodeBlock((unsigned char *)text, rnd, sizeof rnd);
        memcpy(s->snonce, text, sizeof text - 1); /* 24 bytes: no padding */
        s->snonce_len = sizeof text - 1;
    }
    *out = s;
    return 0;
}

void fe_scram_free(fe_scram **s) {
    if (!s || !*s)
        return;
    OPENSSL_cleanse(*s, sizeof **s);
    free(*s);
    *s = NULL;
}

int fe_scram_step(const fe_scram *s) { return s->step; }
int fe_scram_mech(const fe_scram *s) { return s->mech; }

/* ------------------------------------------------------------ parsing */

#define FAIL(code, reason)  \
    do {                    \
        *why = (reason);    \
        return (code);      \
    } while (0)

/* True when the next bytes are @p lit; then skip them. */
static bool take_lit(cur *c, const char *lit) {
    size_t n = strlen(lit);
    if (c->n - c->i < n || memcmp(c->p + c->i, lit, n) != 0)
        return false;
    c->i += n;
    return true;
}

/* The value up to the next ',' (or the end); the position stays on the ','. */
static void take_value(cur *c, const char **v, size_t *vn) {
    const char *comma = memchr(c->p + c->i, ',', c->n - c->i);
    size_t end = comma ? (size_t)(comma - c->p) : c->n;
    *v = c->p + c->i;
    *vn = end - c->i;
    c->i = end;
}

/* saslname: '=' only as "=2C" (',') or "=3D" ('='); the result is at most
 * @p cap - 1 bytes and NUL-terminated. */
static int unescape_name(const char *in, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch == '=') {
            if (n - i < 3)
                return -EINVAL;
            if (in[i + 1] == '2' && in[i + 2] == 'C')
                ch = ',';
            else if (in[i + 1] == '3' && in[i + 2] == 'D')
                ch = '=';
            else
                return -EINVAL;
            i += 2;
        }
        if (o + 1 >= cap)
            return -E2BIG;
        out[o++] = ch;
    }
    if (o == 0)
        return -EINVAL;
    out[o] = '\0';
    return 0;
}

/* No NUL or other control bytes anywhere in a SCRAM message. */
static bool printable(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
    return true;
}

static const fe_scram_user *find_user(const fe_config *conf, const char *name) {
    for (int i = 0; i < conf->n_scram_users; i++)
        if (strcmp(conf->scram_users[i].name, name) == 0)
            return &conf->scram_users[i];
    return NULL;
}

/* A credential that no proof matches, stable per (mechanism, name), so that
 * an unknown user looks like a known one with a wrong password. */
static int fake_cred(fe_scram *s, const fe_config *conf, const char *name) {
    uint8_t mac[32];
    unsigned mac_len = 0;
    uint8_t in[16 + 128];
    size_t mn = strlen(mech_names[s->mech]), nn = strlen(name);
    memcpy(in, mech_names[s->mech], mn);
    in[mn] = 0;
    memcpy(in + mn + 1, name, nn);
    if (!HMAC(EVP_sha256(), conf->scram_secret, sizeof conf->scram_secret, in, mn + 1 + nn, mac,
              &mac_len))
        return -EIO;
    memset(&s->fake, 0, sizeof s->fake);
    memcpy(s->fake.salt, mac, 16);
    s->fake.salt_len = 16;
    s->fake.iterations = FE_SCRAM_DEFAULT_ITERATIONS;
    for (int i = 0; i < conf->n_scram_users; i++)
        if (conf->scram_users[i].cred[s->mech].set) {
            s->fake.iterations = conf->scram_users[i].cred[s->mech].iterations;
            break;
        }
    /* stored_key stays all zero: no ClientKey hashes to it */
    s->cred = &s->fake;
    s->user = NULL;
    return 0;
}

int fe_scram_client_first(fe_scram *s, const fe_config *conf, const uint8_t *msg, size_t len,
                          char *out, size_t cap, size_t *out_len, const char **why) {
    if (s->step != 0)
        FAIL(-EPROTO, "unexpected SCRAM client-first message");
    s->step = 2; /* until it succeeds */
    if (len > FE_SCRAM_MAX_MSG)
        FAIL(-E2BIG, "SCRAM message too long");
    if (!printable(msg, len))
        FAIL(-EINVAL, "malformed SCRAM message (control characters)");
    cur c = {(const char *)msg, len, 0};

    /* gs2-header: gs2-cbind-flag "," [authzid] "," */
    if (len < 3)
        FAIL(-EINVAL, "malformed SCRAM client-first message");
    if (c.p[0] == 'p')
        FAIL(-EOPNOTSUPP, "SCRAM channel binding is not supported");
    if ((c.p[0] != 'n' && c.p[0] != 'y') || c.p[1] != ',')
        FAIL(-EINVAL, "malformed SCRAM gs2 header");
    c.i = 2;
    const char *authz = NULL;
    size_t authz_n = 0;
    if (take_lit(&c, "a="))
        take_value(&c, &authz, &authz_n);
    if (!take_lit(&c, ","))
        FAIL(-EINVAL, "malformed SCRAM gs2 header");
    size_t gs2_len = c.i;

    /* client-first-message-bare: n=saslname,r=nonce[,ext=value]* */
    size_t bare_start = c.i;
    if (take_lit(&c, "m="))
        FAIL(-EOPNOTSUPP, "SCRAM mandatory extensions are not supported");
    const char *name_raw, *cnonce;
    size_t name_n, cnonce_n;
    if (!take_lit(&c, "n="))
        FAIL(-EINVAL, "malformed SCRAM client-first message (expected n=)");
    take_value(&c, &name_raw, &name_n);
    if (!take_lit(&c, ",r="))
        FAIL(-EINVAL, "malformed SCRAM client-first message (expected r=)");
    take_value(&c, &cnonce, &cnonce_n);
    if (cnonce_n == 0 || cnonce_n > FE_SCRAM_MAX_NONCE)
        FAIL(-EINVAL, "malformed SCRAM nonce");
    for (size_t i = 0; i < cnonce_n; i++)
        if (!nonce_char(cnonce[i]))
            FAIL(-EINVAL, "malformed SCRAM nonce");
    while (c.i < c.n) {
        /* extensions: ",<letters>=<value>" */
        const char *v;
        size_t vn, k0;
        if (!take_lit(&c, ","))
            FAIL(-EINVAL, "malformed SCRAM extension");
        k0 = c.i;
        while (c.i < c.n && ((c.p[c.i] >= 'a' && c.p[c.i] <= 'z') ||
                             (c.p[c.i] >= 'A' && c.p[c.i] <= 'Z')))
            c.i++;
        size_t kn = c.i - k0;
        if (kn == 0 || !take_lit(&c, "="))
            FAIL(-EINVAL, "malformed SCRAM extension");
        take_value(&c, &v, &vn);
        if (kn == 9 && memcmp(c.p + k0, "tokenauth", 9) == 0 &&
            !(vn == 5 && memcmp(v, "false", 5) == 0))
            FAIL(-EOPNOTSUPP, "delegation tokens are not supported");
    }

    char name[sizeof conf->scram_users[0].name];
    int r = unescape_name(name_raw, name_n, name, sizeof name);
    if (r < 0)
        FAIL(r, r == -E2BIG ? "SCRAM username too long" : "malformed SCRAM username");
    if (authz) {
        char az[sizeof name];
        if (unescape_name(authz, authz_n, az, sizeof az) < 0 || strcmp(az, name) != 0)
            FAIL(-EACCES, "SCRAM authorization id must be the username");
    }

    const fe_scram_user *u = find_user(conf, name);
    if (u && u->cred[s->mech].set) {
        s->user = u;
        s->cred = &u->cred[s->mech];
    } else if (fake_cred(s, conf, name) < 0) {
        FAIL(-EIO, "cannot compute SCRAM parameters");
    }

    /* keep what the proof covers */
    memcpy(s->gs2, c.p, gs2_len);
    s->gs2_len = gs2_len;
    s->bare_len = len - bare_start;
    memcpy(s->bare, c.p + bare_start, s->bare_len);
    memcpy(s->nonce, cnonce, cnonce_n);
    memcpy(s->nonce + cnonce_n, s->snonce, s->snonce_len);
    s->nonce_len = cnonce_n + s->snonce_len;

    /* server-first-message: r=nonce,s=salt,i=iterations */
    char *sf = s->server_first;
    size_t pos = 0, sfcap = sizeof s->server_first;
    char iters[16];
    int in = snprintf(iters, sizeof iters, ",i=%u", (unsigned)s->cred->iterations);
    if (append(sf, sfcap, &pos, "r=", 2) < 0 ||
        append(sf, sfcap, &pos, s->nonce, s->nonce_len) < 0 ||
        append(sf, sfcap, &pos, ",s=", 3) < 0 ||
        b64_append(sf, sfcap, &pos, s->cred->salt, s->cred->salt_len) < 0 ||
        append(sf, sfcap, &pos, iters, (size_t)in) < 0)
        FAIL(-E2BIG, "SCRAM server message too long");
    s->server_first_len = pos;
    if (pos > cap)
        FAIL(-E2BIG, "SCRAM server message too long");
    memcpy(out, sf, pos);
    *out_len = pos;
    s->step = 1;
    return 0;
}

/* The client-final nonce: the server-first one, or the client nonce followed
 * by it. librdkafka (at least to 2.x) sends the latter, "c=biws,r=" cnonce
 * (cnonce snonce); Kafka accepts any nonce that ends with the server-first
 * one (ScramSaslServer), we accept exactly these two forms. The proof covers
 * the message as sent either way. */
static bool nonce_matches(const fe_scram *s, const char *nonce, size_t n) {
    size_t cn = s->nonce_len - s->snonce_len;
    if (n == s->nonce_len)
        return CRYPTO_memcmp(nonce, s->nonce, n) == 0;
    if (n == cn + s->nonce_len)
        return CRYPTO_memcmp(nonce, s->nonce, cn) == 0 &&
               CRYPTO_memcmp(nonce + cn, s->nonce, s->nonce_len) == 0;
    return false;
}

int fe_scram_client_final(fe_scram *s, const uint8_t *msg, size_t len, char *out, size_t cap,
                          size_t *out_len, const fe_scram_user **user, const char **why) {
    if (s->step != 1)
        FAIL(-EPROTO, "unexpected SCRAM client-final message");
    s->step = 2;
    if (len > FE_SCRAM_MAX_MSG)
        FAIL(-E2BIG, "SCRAM message too long");
    if (!printable(msg, len))
        FAIL(-EINVAL, "malformed SCRAM message (control characters)");
    cur c = {(const char *)msg, len, 0};
    size_t h = fe_scram_hash_len(s->mech);

    /* c=base64(gs2-header): no channel binding data, so exactly the header */
    const char *cb, *nonce, *proof_b64;
    size_t cb_n, nonce_n, proof_n;
    uint8_t cb_bin[FE_SCRAM_MAX_MSG];
    size_t cb_len;
    if (!take_lit(&c, "c="))
        FAIL(-EINVAL, "malformed SCRAM client-final message (expected c=)");
    take_value(&c, &cb, &cb_n);
    if (fe_scram_b64_decode(cb, cb_n, cb_bin, sizeof cb_bin, &cb_len) < 0)
        FAIL(-EINVAL, "malformed SCRAM channel binding (base64)");
    if (cb_len != s->gs2_len || memcmp(cb_bin, s->gs2, cb_len) != 0)
        FAIL(-EINVAL, "SCRAM channel binding does not match the gs2 header");
    if (!take_lit(&c, ",r="))
        FAIL(-EINVAL, "malformed SCRAM client-final message (expected r=)");
    take_value(&c, &nonce, &nonce_n);
    if (!nonce_matches(s, nonce, nonce_n))
        FAIL(-EINVAL, "SCRAM nonce does not match");
    size_t without_proof = c.i;
    if (!take_lit(&c, ",p="))
        FAIL(-EINVAL, "malformed SCRAM client-final message (expected p= last)");
    take_value(&c, &proof_b64, &proof_n);
    if (c.i != c.n)
        FAIL(-EINVAL, "malformed SCRAM client-final message (data after p=)");
    uint8_t proof[FE_SCRAM_MAX_KEY];
    size_t proof_len;
    if (fe_scram_b64_decode(proof_b64, proof_n, proof, sizeof proof, &proof_len) < 0 ||
        proof_len != h)
        FAIL(-EINVAL, "malformed SCRAM proof");

    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    char am[FE_SCRAM_MAX_MSG + 1 + FE_SCRAM_MAX_SERVER_MSG + 1 + FE_SCRAM_MAX_MSG];
    size_t am_len = 0;
    (void)append(am, sizeof am, &am_len, s->bare, s->bare_len);
    (void)append(am, sizeof am, &am_len, ",", 1);
    (void)append(am, sizeof am, &am_len, s->server_first, s->server_first_len);
    (void)append(am, sizeof am, &am_len, ",", 1);
    (void)append(am, sizeof am, &am_len, msg, without_proof); /* sized to fit */

    uint8_t sig[FE_SCRAM_MAX_KEY], key[FE_SCRAM_MAX_KEY], stored[FE_SCRAM_MAX_KEY];
    int r = 0;
    if (hmac(s->mech, s->cred->stored_key, h, am, am_len, sig) < 0)
        r = -EIO;
    for (size_t i = 0; i < h; i++)
        key[i] = proof[i] ^ sig[i];
    if (r == 0 && digest(s->mech, key, h, stored) < 0)
        r = -EIO;
    bool ok = r == 0 && CRYPTO_memcmp(stored, s->cred->stored_key, h) == 0 && s->user;
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(sig, sizeof sig);
    if (r < 0)
        FAIL(r, "cannot verify the SCRAM proof");
    if (!ok)
        FAIL(-EACCES, "invalid SCRAM username or password");

    /* server-final-message: v=base64(HMAC(ServerKey, AuthMessage)) */
    size_t pos = 0;
    if (hmac(s->mech, s->cred->server_key, h, am, am_len, sig) < 0)
        FAIL(-EIO, "cannot compute the SCRAM server signature");
    char sfin[8 + 4 * (FE_SCRAM_MAX_KEY + 2) / 3 + 1];
    if (append(sfin, sizeof sfin, &pos, "v=", 2) < 0 ||
        b64_append(sfin, sizeof sfin, &pos, sig, h) < 0 || pos > cap)
        FAIL(-E2BIG, "SCRAM server message too long");
    memcpy(out, sfin, pos);
    *out_len = pos;
    *user = s->user;
    return 0;
}
