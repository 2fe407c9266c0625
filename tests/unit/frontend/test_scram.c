/* test_scram.c — SASL SCRAM-SHA-256/512, server side (scram.c), and the
 * scram_users section of the frontend config (fe_config.c).
 *
 * The RFC 7677 example exchange is replayed with its fixed server nonce;
 * SHA-512 is checked against a client written here with OpenSSL. Every
 * client message is placed right before a PROT_NONE guard page, without a
 * NUL terminator, so a parser that reads one byte too far crashes. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fe_config.h"
#include "scram.h"
#include "unit.h"

/* RFC 7677 section 3 */
#define RFC_SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_FIRST "n,,n=user,r=" RFC_CNONCE
#define RFC_SERVER_FIRST "r=" RFC_CNONCE RFC_SNONCE ",s=" RFC_SALT ",i=4096"
#define RFC_FINAL "c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static fe_config conf;

/* ------------------------------------------------------------ guard page */

static long page;
static uint8_t *guard_area;
static size_t guard_area_len;

static const uint8_t *guarded(const void *s, size_t n) {
    if (guard_area)
        munmap(guard_area, guard_area_len);
    size_t data_pages = (n + (size_t)page - 1) / (size_t)page + 1;
    guard_area_len = (data_pages + 1) * (size_t)page;
    guard_area = mmap(NULL, guard_area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (guard_area == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    uint8_t *guard = guard_area + data_pages * (size_t)page;
    if (mprotect(guard, (size_t)page, PROT_NONE) < 0) {
        perror("mprotect");
        exit(2);
    }
    memcpy(guard - n, s, n);
    return guard - n;
}

/* ------------------------------------------------------------ helpers */

static void add_user(const char *name, const char *password, unsigned rights, bool sha256,
                     bool sha512) {
    fe_scram_user *u = &conf.scram_users[conf.n_scram_users++];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    u->rights = rights;
    uint8_t salt[64];
    size_t salt_len;
    if (fe_scram_b64_decode(RFC_SALT, strlen(RFC_SALT), salt, sizeof salt, &salt_len) < 0)
        exit(2);
    if (sha256)
        CHECK_EQ_INT(fe_scram_derive(FE_SCRAM_SHA_256, password, strlen(password), salt,
                                     salt_len, 4096, &u->cred[FE_SCRAM_SHA_256]),
                     0);
    if (sha512)
        CHECK_EQ_INT(fe_scram_derive(FE_SCRAM_SHA_512, password, strlen(password), salt,
                                     salt_len, 4096, &u->cred[FE_SCRAM_SHA_512]),
                     0);
}

static void setup_conf(void) {
    memset(&conf, 0, sizeof conf);
    memset(conf.scram_secret, 0x5a, sizeof conf.scram_secret);
    add_user("user", "pencil", FE_RIGHT_SEND | FE_RIGHT_LISTEN, true, true);
    add_user("a,b=c", "comma-equals-pw", FE_RIGHT_MANAGE, false, true);
}

static int first(fe_scram *s, const char *msg, char *out, size_t *out_len, const char **why) {
    size_t n = strlen(msg);
    *why = NULL;
    int r = fe_scram_client_first(s, &conf, guarded(msg, n), n, out, FE_SCRAM_MAX_SERVER_MSG,
                                  out_len, why);
    CHECK(r == 0 || *why != NULL);
    return r;
}

static int final(fe_scram *s, const char *msg, char *out, size_t *out_len,
                 const fe_scram_user **u, const char **why) {
    size_t n = strlen(msg);
    *why = NULL;
    *u = NULL;
    int r = fe_scram_client_final(s, guarded(msg, n), n, out, FE_SCRAM_MAX_SERVER_MSG, out_len,
                                  u, why);
    CHECK(r == 0 || *why != NULL);
    CHECK(r != 0 || *u != NULL);
    return r;
}

/* A server at step 1 after the RFC client-first message. */
static fe_scram *rfc_started(int mech) {
    fe_scram *s = NULL;
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t n;
    const char *why;
    CHECK_EQ_INT(fe_scram_new(mech, RFC_SNONCE, &s), 0);
    CHECK_EQ_INT(first(s, RFC_FIRST, out, &n, &why), 0);
    return s;
}

/* ------------------------------------------------------------ a client */

typedef struct client {
    int mech;
    char user_esc[256];
    char password[128];
    char cnonce[64];
    char bare[512];
    char server_first[FE_SCRAM_MAX_SERVER_MSG + 1];
    char final[1024];
    uint8_t server_sig[64];
    const char *nonce_prefix;  /* sent before the nonce in client-final */
} client;

static const EVP_MD *md(int mech) { return mech == FE_SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256(); }

static void client_first(client *c, char *out, size_t cap) {
    snprintf(c->bare, sizeof c->bare, "n=%s,r=%s", c->user_esc, c->cnonce);
    snprintf(out, cap, "n,,%s", c->bare);
}

/* Parse server-first and build client-final (RFC 5802 section 3). */
static bool client_final(client *c, const char *sf, size_t sf_len) {
    memcpy(c->server_first, sf, sf_len);
    c->server_first[sf_len] = '\0';
    const char *r = strstr(c->server_first, "r="), *s = strstr(c->server_first, ",s="),
               *i = strstr(c->server_first, ",i=");
    if (r != c->server_first || !s || !i)
        return false;
    char nonce[512], salt_b64[128];
    snprintf(nonce, sizeof nonce, "%.*s", (int)(s - r - 2), r + 2);
    snprintf(salt_b64, sizeof salt_b64, "%.*s", (int)(i - s - 3), s + 3);
    int iters = atoi(i + 3);
    uint8_t salt[64];
    size_t salt_len;
    if (strncmp(nonce, c->cnonce, strlen(c->cnonce)) != 0 ||
        fe_scram_b64_decode(salt_b64, strlen(salt_b64), salt, sizeof salt, &salt_len) < 0)
        return false;
    int h = EVP_MD_size(md(c->mech));
    uint8_t salted[64], ck[64], sk[64], stored[64], sig[64], proof[64], srvk[64];
    unsigned l;
    PKCS5_PBKDF2_HMAC(c->password, (int)strlen(c->password), salt, (int)salt_len, iters,
                      md(c->mech), h, salted);
    HMAC(md(c->mech), salted, h, (const uint8_t *)"Client Key", 10, ck, &l);
    EVP_Digest(ck, (size_t)h, stored, &l, md(c->mech), NULL);
    char without[600], am[2048];
    snprintf(without, sizeof without, "c=biws,r=%s%s", c->nonce_prefix, nonce);
    snprintf(am, sizeof am, "%s,%s,%s", c->bare, c->server_first, without);
    HMAC(md(c->mech), stored, h, (const uint8_t *)am, strlen(am), sig, &l);
    for (int k = 0; k < h; k++)
        proof[k] = ck[k] ^ sig[k];
    HMAC(md(c->mech), salted, h, (const uint8_t *)"Server Key", 10, srvk, &l);
    HMAC(md(c->mech), srvk, h, (const uint8_t *)am, strlen(am), c->server_sig, &l);
    char p64[100];
    EVP_EncodeBlock((unsigned char *)p64, proof, h);
    snprintf(c->final, sizeof c->final, "%s,p=%s", without, p64);
    (void)sk;
    return true;
}

/* ------------------------------------------------------------ tests */

static void test_rfc7677_vector(void) {
    fe_scram *s = NULL;
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t n = 0;
    const char *why;
    const fe_scram_user *u;
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, RFC_SNONCE, &s), 0);
    CHECK_EQ_INT(fe_scram_step(s), 0);
    CHECK_EQ_INT(first(s, RFC_FIRST, out, &n, &why), 0);
    CHECK_EQ_INT(n, strlen(RFC_SERVER_FIRST));
    CHECK_MEM(out, RFC_SERVER_FIRST, strlen(RFC_SERVER_FIRST));
    CHECK_EQ_INT(fe_scram_step(s), 1);
    CHECK_EQ_INT(final(s, RFC_FINAL, out, &n, &u, &why), 0);
    CHECK_EQ_INT(n, strlen(RFC_SERVER_FINAL));
    CHECK_MEM(out, RFC_SERVER_FINAL, strlen(RFC_SERVER_FINAL));
    CHECK(u == &conf.scram_users[0]);
    CHECK_EQ_INT(fe_scram_step(s), 2);
    /* the exchange is over: a replay is out of order */
    CHECK_EQ_INT(final(s, RFC_FINAL, out, &n, &u, &why), -EPROTO);
    fe_scram_free(&s);
    CHECK(s == NULL);
    fe_scram_free(&s); /* accepts NULL */
}

static void test_wrong_password(void) {
    /* the same exchange against a user whose password is not "pencil" */
    fe_scram_cred saved = conf.scram_users[0].cred[FE_SCRAM_SHA_256];
    uint8_t salt[64];
    size_t salt_len;
    CHECK_EQ_INT(fe_scram_b64_decode(RFC_SALT, strlen(RFC_SALT), salt, sizeof salt, &salt_len), 0);
    CHECK_EQ_INT(fe_scram_derive(FE_SCRAM_SHA_256, "pencil2", 7, salt, salt_len, 4096,
                                 &conf.scram_users[0].cred[FE_SCRAM_SHA_256]),
                 0);
    fe_scram *s = rfc_started(FE_SCRAM_SHA_256);
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t n;
    const char *why;
    const fe_scram_user *u;
    CHECK_EQ_INT(final(s, RFC_FINAL, out, &n, &u, &why), -EACCES);
    CHECK(u == NULL);
    CHECK(why && strstr(why, "password"));
    fe_scram_free(&s);
    conf.scram_users[0].cred[FE_SCRAM_SHA_256] = saved;
}

static void test_tampered_proof(void) {
    char msg[sizeof RFC_FINAL];
    /* flip one bit of every proof character in turn (all still base64) */
    size_t p = strlen(RFC_FINAL) - 44;
    for (size_t k = p; k < p + 42; k += 7) {
        memcpy(msg, RFC_FINAL, sizeof msg);
        msg[k] = msg[k] == 'A' ? 'B' : 'A';
        fe_scram *s = rfc_started(FE_SCRAM_SHA_256);
        char out[FE_SCRAM_MAX_SERVER_MSG];
        size_t n;
        const char *why;
        const fe_scram_user *u;
        CHECK_EQ_INT(final(s, msg, out, &n, &u, &why), -EACCES);
        fe_scram_free(&s);
    }
    /* the nonce is covered too */
    memcpy(msg, RFC_FINAL, sizeof msg);
    msg[10] ^= 1;
    fe_scram *s = rfc_started(FE_SCRAM_SHA_256);
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t n;
    const char *why;
    const fe_scram_user *u;
    CHECK_EQ_INT(final(s, msg, out, &n, &u, &why), -EINVAL);
    fe_scram_free(&s);
}

static void run_client_nonce(int mech, const char *user_esc, const char *password, int want,
                             const fe_scram_user *want_user, const char *nonce_prefix);

static void run_client(int mech, const char *user_esc, const char *password, int want,
                       const fe_scram_user *want_user) {
    run_client_nonce(mech, user_esc, password, want, want_user, "");
}

static void run_client_nonce(int mech, const char *user_esc, const char *password, int want,
                             const fe_scram_user *want_user, const char *nonce_prefix) {
    client c = {.mech = mech, .nonce_prefix = nonce_prefix};
    snprintf(c.user_esc, sizeof c.user_esc, "%s", user_esc);
    snprintf(c.password, sizeof c.password, "%s", password);
    snprintf(c.cnonce, sizeof c.cnonce, "fyko+d2lbbFgONRv9qkxdawL");
    fe_scram *s = NULL;
    char msg[1024], out[FE_SCRAM_MAX_SERVER_MSG];
    size_t n;
    const char *why;
    const fe_scram_user *u;
    CHECK_EQ_INT(fe_scram_new(mech, NULL, &s), 0);
    client_first(&c, msg, sizeof msg);
    CHECK_EQ_INT(first(s, msg, out, &n, &why), 0);
    CHECK(client_final(&c, out, n));
    CHECK_EQ_INT(final(s, c.final, out, &n, &u, &why), want);
    if (want == 0) {
        char v[100] = "v=";
        EVP_EncodeBlock((unsigned char *)v + 2, c.server_sig, EVP_MD_size(md(mech)));
        CHECK_EQ_INT(n, strlen(v));
        CHECK_MEM(out, v, strlen(v));
        CHECK(u == want_user);
    }
    fe_scram_free(&s);
}

static void test_sha512_and_escaped_names(void) {
    run_client(FE_SCRAM_SHA_512, "user", "pencil", 0, &conf.scram_users[0]);
    run_client(FE_SCRAM_SHA_256, "user", "pencil", 0, &conf.scram_users[0]);
    run_client(FE_SCRAM_SHA_512, "user", "pencil!", -EACCES, NULL);
    run_client(FE_SCRAM_SHA_512, "a=2Cb=3Dc", "comma-equals-pw", 0, &conf.scram_users[1]);
    /* a user without this mechanism fails like a wrong password */
    run_client(FE_SCRAM_SHA_256, "a=2Cb=3Dc", "comma-equals-pw", -EACCES, NULL);
    run_client(FE_SCRAM_SHA_512, "nobody", "pencil", -EACCES, NULL);
}

static void test_librdkafka_nonce_form(void) {
    /* librdkafka sends r=<client nonce><client nonce><server nonce> */
    run_client_nonce(FE_SCRAM_SHA_256, "user", "pencil", 0, &conf.scram_users[0],
                     "fyko+d2lbbFgONRv9qkxdawL");
    run_client_nonce(FE_SCRAM_SHA_512, "user", "pencil", 0, &conf.scram_users[0],
                     "fyko+d2lbbFgONRv9qkxdawL");
    /* any other prefix, even of the same length, is refused */
    run_client_nonce(FE_SCRAM_SHA_256, "user", "pencil", -EINVAL, NULL,
                     "fyko+d2lbbFgONRv9qkxdawM");
    run_client_nonce(FE_SCRAM_SHA_256, "user", "pencil", -EINVAL, NULL, "x");
}

static void test_unknown_user_looks_known(void) {
    /* the salt an unknown user gets is stable, as a real user's is */
    char out1[FE_SCRAM_MAX_SERVER_MSG], out2[FE_SCRAM_MAX_SERVER_MSG];
    size_t n1, n2;
    const char *why;
    fe_scram *s = NULL;
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, "SNONCE", &s), 0);
    CHECK_EQ_INT(first(s, "n,,n=mallory,r=abc", out1, &n1, &why), 0);
    fe_scram_free(&s);
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, "SNONCE", &s), 0);
    CHECK_EQ_INT(first(s, "n,,n=mallory,r=abc", out2, &n2, &why), 0);
    fe_scram_free(&s);
    CHECK_EQ_INT(n1, n2);
    CHECK_MEM(out1, out2, n1);
    CHECK(memmem(out1, n1, ",i=4096", 7) != NULL);
}

static void test_random_nonce(void) {
    fe_scram *a = NULL, *b = NULL;
    char oa[FE_SCRAM_MAX_SERVER_MSG], ob[FE_SCRAM_MAX_SERVER_MSG];
    size_t na, nb;
    const char *why;
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, NULL, &a), 0);
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, NULL, &b), 0);
    CHECK_EQ_INT(first(a, RFC_FIRST, oa, &na, &why), 0);
    CHECK_EQ_INT(first(b, RFC_FIRST, ob, &nb, &why), 0);
    /* r=<client nonce><32 characters of server nonce>,s=... */
    size_t nonce_end = 2 + strlen(RFC_CNONCE) + 32;
    CHECK(na > nonce_end && oa[nonce_end] == ',');
    CHECK(memcmp(oa, ob, nonce_end) != 0);
    fe_scram_free(&a);
    fe_scram_free(&b);
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, "bad,nonce", &a), -EINVAL);
    CHECK_EQ_INT(fe_scram_new(7, NULL, &a), -EINVAL);
}

static void test_malformed_client_first(void) {
    static const struct {
        const char *msg;
        int want;
    } cases[] = {
        {"", -EINVAL},
        {"n,", -EINVAL},
        {"n,,", -EINVAL},
        {"p=tls-unique,,n=user,r=abc", -EOPNOTSUPP},
        {"x,,n=user,r=abc", -EINVAL},
        {"n,n=user,r=abc", -EINVAL},
        {"n,,m=ext,n=user,r=abc", -EOPNOTSUPP},
        {"n,,r=abc,n=user", -EINVAL},          /* attribute order */
        {"n,,n=user", -EINVAL},
        {"n,,n=user,r=", -EINVAL},
        {"n,,n=user,", -EINVAL},
        {"n,,n=,r=abc", -EINVAL},
        {"n,,n=us=2Xer,r=abc", -EINVAL},       /* '=' not =2C or =3D */
        {"n,,n=user=,r=abc", -EINVAL},
        {"n,,n=user=2,r=abc", -EINVAL},
        {"n,,n=user=2c,r=abc", -EINVAL},       /* escapes are upper case */
        {"n,,n=user,r=abc,", -EINVAL},         /* empty extension */
        {"n,,n=user,r=abc,=1", -EINVAL},
        {"n,,n=user,r=abc,9x=1", -EINVAL},
        {"n,,n=user,r=abc,tokenauth=true", -EOPNOTSUPP},
        {"n,a=admin,n=user,r=abc", -EACCES},   /* authzid must be the user */
        {"n,,n=user,r=a\tb", -EINVAL},
        {"n,,n=user,r=abc\x7f", -EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fe_scram *s = NULL;
        char out[FE_SCRAM_MAX_SERVER_MSG];
        size_t n;
        const char *why;
        CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, NULL, &s), 0);
        int r = first(s, cases[i].msg, out, &n, &why);
        if (r != cases[i].want)
            fprintf(stderr, "  case %zu \"%s\": got %d, want %d\n", i, cases[i].msg, r,
                    cases[i].want);
        CHECK_EQ_INT(r, cases[i].want);
        /* a failed first message ends the exchange */
        const fe_scram_user *u;
        CHECK_EQ_INT(final(s, RFC_FINAL, out, &n, &u, &why), -EPROTO);
        fe_scram_free(&s);
    }
    /* accepted forms */
    static const char *const ok[] = {
        "y,,n=user,r=abc",
        "n,a=user,n=user,r=abc",
        "n,,n=user,r=abc,ext=value,tokenauth=false",
        "n,,n=user,r=!\"#$%&'()*+-./:;<=>?@[\\]^_`{|}~",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        fe_scram *s = NULL;
        char out[FE_SCRAM_MAX_SERVER_MSG];
        size_t n;
        const char *why;
        CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, NULL, &s), 0);
        CHECK_EQ_INT(first(s, ok[i], out, &n, &why), 0);
        fe_scram_free(&s);
    }
    /* embedded NUL, too long, nonce too long, name too long */
    fe_scram *s = NULL;
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t n;
    const char *why;
    static const char nul[] = "n,,n=user,r=a\0b";
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, NULL, &s), 0);
    CHECK_EQ_INT(fe_scram_client_first(s, &conf, guarded(nul, sizeof nul - 1), sizeof nul - 1,
                                       out, sizeof out, &n, &why),
                 -EINVAL);
    fe_scram_free(&s);
    char big[FE_SCRAM_MAX_MSG + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "n,,n=user,r=", 12);
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, NULL, &s), 0);
    CHECK_EQ_INT(first(s, big, out, &n, &why), -E2BIG);
    fe_scram_free(&s);
    big[12 + FE_SCRAM_MAX_NONCE + 1] = '\0';
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, NULL, &s), 0);
    CHECK_EQ_INT(first(s, big, out, &n, &why), -EINVAL);
    fe_scram_free(&s);
    big[12 + FE_SCRAM_MAX_NONCE] = '\0'; /* the longest nonce is fine */
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, NULL, &s), 0);
    CHECK_EQ_INT(first(s, big, out, &n, &why), 0);
    fe_scram_free(&s);
    char name[300];
    snprintf(name, sizeof name, "n,,n=%0200d,r=abc", 0);
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, NULL, &s), 0);
    CHECK_EQ_INT(first(s, name, out, &n, &why), -E2BIG);
    fe_scram_free(&s);
}

static void test_malformed_client_final(void) {
    static const char *const bad[] = {
        "",
        "c=biws",
        "c=biws,r=" RFC_CNONCE RFC_SNONCE,                       /* no proof */
        "r=" RFC_CNONCE RFC_SNONCE ",c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=eSws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws=,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=" RFC_CNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=" RFC_CNONCE RFC_SNONCE "x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVR=",
        "c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",
        "c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7And",
        "c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
        "c=biws,r=" RFC_CNONCE RFC_SNONCE ",x=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fe_scram *s = rfc_started(FE_SCRAM_SHA_256);
        char out[FE_SCRAM_MAX_SERVER_MSG];
        size_t n;
        const char *why;
        const fe_scram_user *u;
        int r = final(s, bad[i], out, &n, &u, &why);
        if (r != -EINVAL)
            fprintf(stderr, "  case %zu: got %d\n", i, r);
        CHECK_EQ_INT(r, -EINVAL);
        fe_scram_free(&s);
    }
    /* a "y" gs2 header must be echoed as "y,," */
    fe_scram *s = NULL;
    char out[FE_SCRAM_MAX_SERVER_MSG];
    size_t n;
    const char *why;
    const fe_scram_user *u;
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, RFC_SNONCE, &s), 0);
    CHECK_EQ_INT(first(s, "y,,n=user,r=" RFC_CNONCE, out, &n, &why), 0);
    CHECK_EQ_INT(final(s, RFC_FINAL, out, &n, &u, &why), -EINVAL);
    fe_scram_free(&s);
    /* client-final before client-first */
    CHECK_EQ_INT(fe_scram_new(FE_SCRAM_SHA_256, RFC_SNONCE, &s), 0);
    CHECK_EQ_INT(final(s, RFC_FINAL, out, &n, &u, &why), -EPROTO);
    fe_scram_free(&s);
}

static void test_base64_strict(void) {
    uint8_t out[16];
    size_t n;
    CHECK_EQ_INT(fe_scram_b64_decode("QQ==", 4, out, sizeof out, &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(out[0], 'A');
    CHECK_EQ_INT(fe_scram_b64_decode("QUI=", 4, out, sizeof out, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(fe_scram_b64_decode("QR==", 4, out, sizeof out, &n), -EINVAL);
    CHECK_EQ_INT(fe_scram_b64_decode("QUJ=", 4, out, sizeof out, &n), -EINVAL);
    CHECK_EQ_INT(fe_scram_b64_decode("QQ=", 3, out, sizeof out, &n), -EINVAL);
    CHECK_EQ_INT(fe_scram_b64_decode("Q===", 4, out, sizeof out, &n), -EINVAL);
    CHECK_EQ_INT(fe_scram_b64_decode("QQ==QQ==", 8, out, sizeof out, &n), -EINVAL);
    CHECK_EQ_INT(fe_scram_b64_decode("QU I", 4, out, sizeof out, &n), -EINVAL);
    CHECK_EQ_INT(fe_scram_b64_decode("QUFB", 4, out, 2, &n), -E2BIG);
}

/* ------------------------------------------------------------ config */

static int load_json(const char *json, fe_config *c, char *err, size_t errlen) {
    char dir[64], path[96];
    if (!unit_tmpdir(dir, sizeof dir, "test-scram"))
        exit(2);
    snprintf(path, sizeof path, "%s/frontend.json", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(json, f) < 0 || fclose(f) != 0)
        exit(2);
    int r = fe_config_load(path, c, err, errlen);
    unit_tmpdir_remove(dir);
    return r;
}

#define CONF_HEAD                                                                            \
    "{\"controller\": \"127.0.0.1:1\", \"allow_sasl_plaintext\": true,"                      \
    " \"listeners\": [{\"listen\": \"127.0.0.1:2\", \"sasl\": true}],"

static void test_config(void) {
    static fe_config c;
    char err[512];
    /* password form: both mechanisms by default, keys that verify */
    CHECK_EQ_INT(load_json(CONF_HEAD "\"scram_users\": [{\"name\": \"alice\","
                                     " \"password\": \"alice-secret\", \"iterations\": 8192,"
                                     " \"rights\": [\"Send\", \"Listen\"]}]}",
                           &c, err, sizeof err),
                 0);
    CHECK_EQ_INT(c.n_scram_users, 1);
    CHECK_EQ_INT(c.n_policies, 0);
    CHECK_EQ_INT(c.scram_users[0].rights, FE_RIGHT_SEND | FE_RIGHT_LISTEN);
    for (int m = 0; m < FE_SCRAM_MECHS; m++) {
        const fe_scram_cred *cr = &c.scram_users[0].cred[m];
        CHECK(cr->set);
        CHECK_EQ_INT(cr->iterations, 8192);
        CHECK_EQ_INT(cr->salt_len, FE_SCRAM_GEN_SALT_LEN);
        fe_scram_cred again;
        CHECK_EQ_INT(fe_scram_derive(m, "alice-secret", 12, cr->salt, cr->salt_len, 8192, &again),
                     0);
        CHECK_MEM(again.stored_key, cr->stored_key, fe_scram_hash_len(m));
        CHECK_MEM(again.server_key, cr->server_key, fe_scram_hash_len(m));
    }
    CHECK(memcmp(c.scram_users[0].cred[0].salt, c.scram_users[0].cred[1].salt,
                 FE_SCRAM_GEN_SALT_LEN) != 0);

    /* credentials form: the RFC 7677 user */
    CHECK_EQ_INT(load_json(CONF_HEAD "\"scram_users\": [{\"name\": \"user\", \"rights\": [],"
                                     " \"credentials\": {\"SCRAM-SHA-256\": {\"salt\": \"" RFC_SALT
                                     "\", \"iterations\": 4096, \"stored_key\":"
                                     " \"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=\","
                                     " \"server_key\":"
                                     " \"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\"}}}]}",
                           &c, err, sizeof err),
                 0);
    CHECK(c.scram_users[0].cred[FE_SCRAM_SHA_256].set);
    CHECK(!c.scram_users[0].cred[FE_SCRAM_SHA_512].set);
    fe_scram_cred rfc;
    uint8_t salt[64];
    size_t salt_len;
    CHECK_EQ_INT(fe_scram_b64_decode(RFC_SALT, strlen(RFC_SALT), salt, sizeof salt, &salt_len), 0);
    CHECK_EQ_INT(fe_scram_derive(FE_SCRAM_SHA_256, "pencil", 6, salt, salt_len, 4096, &rfc), 0);
    CHECK_MEM(rfc.stored_key, c.scram_users[0].cred[0].stored_key, 32);
    CHECK_MEM(rfc.server_key, c.scram_users[0].cred[0].server_key, 32);

    static const char *const bad[] = {
        /* neither / both forms */
        CONF_HEAD "\"scram_users\": [{\"name\": \"a\", \"rights\": []}]}",
        CONF_HEAD "\"scram_users\": [{\"name\": \"a\", \"password\": \"12345678\","
                  " \"credentials\": {}}]}",
        CONF_HEAD "\"scram_users\": [{\"name\": \"a\", \"password\": \"short\"}]}",
        CONF_HEAD "\"scram_users\": [{\"name\": \"a\", \"password\": \"12345678\","
                  " \"iterations\": 1000}]}",
        CONF_HEAD "\"scram_users\": [{\"name\": \"a\", \"password\": \"12345678\","
                  " \"mechanisms\": [\"SCRAM-SHA-1\"]}]}",
        CONF_HEAD "\"scram_users\": [{\"name\": \"\", \"password\": \"12345678\"}]}",
        CONF_HEAD "\"scram_users\": [{\"name\": \"a\", \"password\": \"12345678\"},"
                  " {\"name\": \"a\", \"password\": \"12345678\"}]}",
        CONF_HEAD "\"scram_users\": [{\"name\": \"a\", \"password\": \"12345678\","
                  " \"rights\": [\"Root\"]}]}",
        /* stored_key of the wrong length, non-canonical base64 */
        CONF_HEAD "\"scram_users\": [{\"name\": \"a\", \"credentials\": {\"SCRAM-SHA-512\":"
                  " {\"salt\": \"QQ==\", \"iterations\": 4096, \"stored_key\": \"" RFC_SALT "\","
                  " \"server_key\": \"" RFC_SALT "\"}}}]}",
        CONF_HEAD "\"scram_users\": [{\"name\": \"a\", \"credentials\": {\"SCRAM-SHA-256\":"
                  " {\"salt\": \"QR==\", \"iterations\": 4096,"
                  " \"stored_key\": \"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=\","
                  " \"server_key\": \"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=\"}}}]}",
        /* a user named like a policy */
        CONF_HEAD "\"policies\": [{\"name\": \"p\", \"key\": \"0123456789abcdef\"}],"
                  " \"scram_users\": [{\"name\": \"p\", \"password\": \"12345678\"}]}",
        /* SASL with neither policies nor users */
        CONF_HEAD "\"scram_users\": []}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int r = load_json(bad[i], &c, err, sizeof err);
        if (r != -EINVAL)
            fprintf(stderr, "  bad config %zu accepted\n", i);
        CHECK_EQ_INT(r, -EINVAL);
        CHECK(err[0] != '\0');
        CHECK(strstr(err, "12345678") == NULL); /* no password in the reason */
    }
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    setup_conf();
    RUN(test_rfc7677_vector);
    RUN(test_wrong_password);
    RUN(test_tampered_proof);
    RUN(test_sha512_and_escaped_names);
    RUN(test_librdkafka_nonce_form);
    RUN(test_unknown_user_looks_known);
    RUN(test_random_nonce);
    RUN(test_malformed_client_first);
    RUN(test_malformed_client_final);
    RUN(test_base64_strict);
    RUN(test_config);
    return unit_done();
}
