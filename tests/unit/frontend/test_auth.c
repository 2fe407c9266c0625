/* test_auth.c — Event Hubs credentials (sas.c) and policy rights (auth.c).
 *
 * Every input is placed right before a PROT_NONE guard page, without a NUL
 * terminator, so a parser that reads one byte too far crashes the test.
 * SAS tokens are built here with OpenSSL's HMAC, the way the Azure SDKs
 * build them: sig = base64(HMAC-SHA256(key bytes, urlencode(uri) "\n" se)). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "fe.h"
#include "kafka_proto.h"
#include "sas.h"
#include "unit.h"

#define KEY_ROOT "c2VjcmV0LWtleS1vZi10aGUtcm9vdC1wb2xpY3k9PQ=="
#define KEY_SEND "send-only-key-0123456789abcdef"
#define NOW_MS ((int64_t)1700000000 * 1000)

static fe_config conf;

static void setup_conf(void) {
    memset(&conf, 0, sizeof conf);
    snprintf(conf.policies[0].name, sizeof conf.policies[0].name, "RootManageSharedAccessKey");
    snprintf(conf.policies[0].key, sizeof conf.policies[0].key, "%s", KEY_ROOT);
    conf.policies[0].rights = FE_RIGHT_SEND | FE_RIGHT_LISTEN | FE_RIGHT_MANAGE;
    snprintf(conf.policies[1].name, sizeof conf.policies[1].name, "sender");
    snprintf(conf.policies[1].key, sizeof conf.policies[1].key, "%s", KEY_SEND);
    conf.policies[1].rights = FE_RIGHT_SEND;
    conf.n_policies = 2;
}

/* Guarded copies: the bytes end exactly at a PROT_NONE page. */
static long page;
static uint8_t *guard_area;
static size_t guard_area_len;

static const char *guarded(const void *s, size_t n) {
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
    return (const char *)(guard - n);
}

static int conn_str(const char *s, fe_sas_identity *id, const char **why) {
    size_t n = strlen(s);
    *why = NULL;
    return fe_sas_verify_conn_str(&conf, guarded(s, n), n, id, why);
}

static int token(const char *s, int64_t now_ms, fe_sas_identity *id, const char **why) {
    size_t n = strlen(s);
    *why = NULL;
    return fe_sas_verify_token(&conf, guarded(s, n), n, now_ms, id, why);
}

/* Percent-encode everything but RFC 3986 unreserved characters. */
static void url_encode(const char *in, char *out, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/* Build a SAS token as the Azure SDKs do. */
static void make_token(char *out, size_t cap, const char *uri, const char *key, long long se,
                       const char *skn) {
    char sr[512], to_sign[600], b64[64], sig[128];
    url_encode(uri, sr, sizeof sr);
    snprintf(to_sign, sizeof to_sign, "%s\n%lld", sr, se);
    uint8_t mac[32];
    unsigned mac_len = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const uint8_t *)to_sign, strlen(to_sign), mac,
         &mac_len);
    EVP_EncodeBlock((unsigned char *)b64, mac, (int)mac_len);
    url_encode(b64, sig, sizeof sig);
    snprintf(out, cap, "SharedAccessSignature sr=%s&sig=%s&se=%lld&skn=%s", sr, sig, se, skn);
}

static void test_conn_str_valid(void) {
    fe_sas_identity id;
    const char *why;
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns.example.net/;SharedAccessKeyName="
                          "RootManageSharedAccessKey;SharedAccessKey=" KEY_ROOT,
                          &id, &why),
                 0);
    CHECK(id.policy == &conf.policies[0]);
    CHECK_EQ_INT(id.entity_path[0], 0);
    CHECK_EQ_INT(id.expiry_ms, 0);
    /* host:port endpoint, as local-cluster writes it; trailing ';' */
    CHECK_EQ_INT(conn_str("Endpoint=sb://127.0.0.1:9093/;SharedAccessKeyName=sender;"
                          "SharedAccessKey=" KEY_SEND ";",
                          &id, &why),
                 0);
    CHECK(id.policy == &conf.policies[1]);
    /* order free, keys case-insensitive, whitespace trimmed, unknown keys ignored */
    CHECK_EQ_INT(conn_str("  sharedaccesskey = " KEY_SEND " ;ENDPOINT=sb://ns/ ; "
                          "TransportType=Amqp;SharedAccessKeyName=sender\r\n",
                          &id, &why),
                 0);
    CHECK(id.policy == &conf.policies[1]);
    /* endpoint without trailing slash */
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND,
                          &id, &why),
                 0);
}

static void test_conn_str_entity_path(void) {
    fe_sas_identity id;
    const char *why;
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND
                          ";EntityPath=orders.v1_x-y",
                          &id, &why),
                 0);
    CHECK(strcmp(id.entity_path, "orders.v1_x-y") == 0);
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND
                          ";EntityPath=bad/topic",
                          &id, &why),
                 -EINVAL);
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND
                          ";EntityPath=",
                          &id, &why),
                 -EINVAL);
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND
                          ";EntityPath=..",
                          &id, &why),
                 -EINVAL);
    char longname[400];
    int n = snprintf(longname, sizeof longname,
                     "Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=%s;EntityPath=",
                     KEY_SEND);
    memset(longname + n, 'a', 250);
    longname[n + 250] = '\0';
    CHECK_EQ_INT(conn_str(longname, &id, &why), -EINVAL); /* 250 > 249 */
    longname[n + 249] = '\0';
    CHECK_EQ_INT(conn_str(longname, &id, &why), 0);
    CHECK_EQ_INT(strlen(id.entity_path), 249);
}

static void test_conn_str_refused(void) {
    fe_sas_identity id;
    const char *why;
    /* wrong key, key with a suffix, key prefix, wrong case, unknown policy */
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=nope",
                          &id, &why),
                 -EACCES);
    CHECK(why && strstr(why, "SharedAccessKey"));
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND
                          "x",
                          &id, &why),
                 -EACCES);
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=send-only",
                          &id, &why),
                 -EACCES);
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;"
                          "SharedAccessKey=SEND-ONLY-KEY-0123456789ABCDEF",
                          &id, &why),
                 -EACCES);
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=Sender;SharedAccessKey=" KEY_SEND,
                          &id, &why),
                 -EACCES);
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_ROOT,
                          &id, &why),
                 -EACCES);
    CHECK_EQ_INT(conn_str("Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=",
                          &id, &why),
                 -EACCES);
}

static void test_conn_str_malformed(void) {
    fe_sas_identity id;
    const char *why;
    static const char *bad[] = {
        "",
        ";;;",
        "garbage",
        "Endpoint=sb://ns/;SharedAccessKeyName=sender",                 /* no key */
        "Endpoint=sb://ns/;SharedAccessKey=" KEY_SEND,                  /* no name */
        "SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND,          /* no endpoint */
        "Endpoint=http://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND,
        "Endpoint=sb:///;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND,
        "Endpoint=sb://ns/hub;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND,
        "Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND ";junk",
        "Endpoint=sb://ns/;Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND,
        "Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND
        ";EntityPath=a;EntityPath=b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = conn_str(bad[i], &id, &why);
        CHECK_EQ_INT(r, -EINVAL);
        CHECK(why != NULL);
        if (r != -EINVAL)
            fprintf(stderr, "  case %zu\n", i);
    }
    /* embedded NUL bytes: the length rules, not a terminator */
    static const char nul[] = "Endpoint=sb://ns/;SharedAccessKeyName=sender\0x;SharedAccessKey=" KEY_SEND;
    CHECK_EQ_INT(fe_sas_verify_conn_str(&conf, guarded(nul, sizeof nul - 1), sizeof nul - 1, &id,
                                        &why),
                 -EACCES);
    /* huge input */
    size_t big = FE_SAS_MAX_LEN + 1;
    char *huge = malloc(big);
    memset(huge, ';', big);
    CHECK_EQ_INT(fe_sas_verify_conn_str(&conf, guarded(huge, big), big, &id, &why), -E2BIG);
    CHECK_EQ_INT(fe_sas_verify_password(&conf, guarded(huge, big), big, NOW_MS, &id, &why),
                 -E2BIG);
    /* largest allowed: a long run of empty segments then a valid string */
    const char *tail = "Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND;
    size_t tl = strlen(tail);
    memcpy(huge + FE_SAS_MAX_LEN - tl, tail, tl);
    CHECK_EQ_INT(fe_sas_verify_conn_str(&conf, guarded(huge, FE_SAS_MAX_LEN), FE_SAS_MAX_LEN, &id,
                                        &why),
                 0);
    free(huge);
    /* every prefix of a valid string: no crash, never accepted until whole */
    const char *full = "Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND
                       ";EntityPath=t";
    size_t fl = strlen(full);
    for (size_t n = 0; n < fl; n++) {
        int r = fe_sas_verify_conn_str(&conf, guarded(full, n), n, &id, &why);
        /* "...;EntityPath" without '=' and "...;EntityPath=" are malformed;
         * cut inside the key it is a wrong key */
        CHECK(r == -EINVAL || r == -EACCES || (r == 0 && n >= fl - 14));
    }
}

static void test_token_valid(void) {
    fe_sas_identity id;
    const char *why;
    char t[1024];
    long long se = NOW_MS / 1000 + 3600;
    make_token(t, sizeof t, "sb://ns.example.net/", KEY_ROOT, se, "RootManageSharedAccessKey");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), 0);
    CHECK(id.policy == &conf.policies[0]);
    CHECK_EQ_INT(id.expiry_ms, se * 1000);
    CHECK_EQ_INT(id.entity_path[0], 0);
    /* through the password and PLAIN entry points */
    CHECK_EQ_INT(fe_sas_verify_password(&conf, guarded(t, strlen(t)), strlen(t), NOW_MS, &id, &why),
                 0);
    char plain[1200];
    int pl = snprintf(plain, sizeof plain, "%c$ConnectionString%c%s", 0, 0, t);
    CHECK_EQ_INT(fe_sas_verify_plain(&conf, (const uint8_t *)guarded(plain, (size_t)pl),
                                     (size_t)pl, NOW_MS, &id, &why),
                 0);
    /* host:port, https scheme, no trailing slash */
    make_token(t, sizeof t, "sb://127.0.0.1:9093/", KEY_SEND, se, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), 0);
    CHECK(id.policy == &conf.policies[1]);
    make_token(t, sizeof t, "https://ns.example.net", KEY_SEND, se, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), 0);
    /* fields in another order, sig not URL-encoded (some tools do that) */
    char sr[256], b64[64];
    char to_sign[300];
    url_encode("sb://ns/", sr, sizeof sr);
    snprintf(to_sign, sizeof to_sign, "%s\n%lld", sr, se);
    uint8_t mac[32];
    unsigned ml;
    HMAC(EVP_sha256(), KEY_SEND, (int)strlen(KEY_SEND), (const uint8_t *)to_sign, strlen(to_sign),
         mac, &ml);
    EVP_EncodeBlock((unsigned char *)b64, mac, 32);
    snprintf(t, sizeof t, "SharedAccessSignature skn=sender&se=%lld&sig=%s&sr=%s", se, b64, sr);
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), 0);
}

static void test_token_scoped(void) {
    fe_sas_identity id;
    const char *why;
    char t[1024];
    long long se = NOW_MS / 1000 + 60;
    make_token(t, sizeof t, "sb://ns/orders", KEY_SEND, se, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), 0);
    CHECK(strcmp(id.entity_path, "orders") == 0);
    make_token(t, sizeof t, "sb://ns/orders/", KEY_SEND, se, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), 0);
    CHECK(strcmp(id.entity_path, "orders") == 0);
    /* sub-scopes and bad topic names are refused */
    make_token(t, sizeof t, "sb://ns/orders/publishers/p1", KEY_SEND, se, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EINVAL);
    make_token(t, sizeof t, "sb://ns/or ders", KEY_SEND, se, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EINVAL);
    make_token(t, sizeof t, "sb:///", KEY_SEND, se, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EINVAL);
}

static void test_token_refused(void) {
    fe_sas_identity id;
    const char *why;
    char t[1024];
    long long se = NOW_MS / 1000 + 3600;
    /* wrong key */
    make_token(t, sizeof t, "sb://ns/", KEY_SEND "x", se, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EACCES);
    /* signed by one policy, presented as another */
    make_token(t, sizeof t, "sb://ns/", KEY_SEND, se, "RootManageSharedAccessKey");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EACCES);
    /* unknown policy */
    make_token(t, sizeof t, "sb://ns/", KEY_SEND, se, "nobody");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EACCES);
    /* expired, and expiring exactly now */
    make_token(t, sizeof t, "sb://ns/", KEY_SEND, NOW_MS / 1000 - 1, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EKEYEXPIRED);
    CHECK(why && strstr(why, "expired"));
    make_token(t, sizeof t, "sb://ns/", KEY_SEND, NOW_MS / 1000, "sender");
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EKEYEXPIRED);
    /* a valid token with se altered: signature no longer matches */
    make_token(t, sizeof t, "sb://ns/", KEY_SEND, se, "sender");
    char *p = strstr(t, "&se=");
    CHECK(p != NULL);
    p[4] = p[4] == '9' ? '8' : (char)(p[4] + 1);
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EACCES);
    /* a token for topic a, resource rewritten to topic b */
    make_token(t, sizeof t, "sb://ns/a", KEY_SEND, se, "sender");
    p = strstr(t, "%2Fa&");
    CHECK(p != NULL);
    p[3] = 'b';
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EACCES);
    /* one flipped bit in the signature */
    make_token(t, sizeof t, "sb://ns/", KEY_SEND, se, "sender");
    p = strstr(t, "sig=") + 4;
    *p = *p == 'A' ? 'B' : 'A';
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EACCES);
}

static void test_token_malformed(void) {
    fe_sas_identity id;
    const char *why;
    char good[1024];
    long long se = NOW_MS / 1000 + 3600;
    make_token(good, sizeof good, "sb://ns/", KEY_SEND, se, "sender");
    static const char *bad[] = {
        "SharedAccessSignature",
        "SharedAccessSignature ",
        "SharedAccessSignaturesr=sb%3A%2F%2Fns%2F&sig=x&se=1&skn=sender",
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2F&se=99999999999&skn=sender",   /* no sig */
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2F&sig=AAAA&se=99999999999&skn=sender", /* short */
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2F&sig=%%%%&se=99999999999&skn=sender",
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2F&sig=!!!!&se=99999999999&skn=sender",
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2F&sig=abc&se=99999999999&skn=sender",
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2F&sig=ab=c&se=99999999999&skn=sender",
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2&sig=AAAA&se=99999999999&skn=sender",
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2Fx%00&sig=AAAA&se=1&skn=sender",
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2F&sig=AAAA&se=-1&skn=sender",
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2F&sig=AAAA&se=1e9&skn=sender",
        "SharedAccessSignature sr=sb%3A%2F%2Fns%2F&sig=AAAA&se=9999999999999&skn=sender",
        "SharedAccessSignature sr=a&sr=b&sig=AAAA&se=1&skn=sender",
        "SharedAccessSignature sr&sig&se&skn",
        "SharedAccessSignature &&&",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = token(bad[i], NOW_MS, &id, &why);
        CHECK_EQ_INT(r, -EINVAL);
        if (r != -EINVAL)
            fprintf(stderr, "  case %zu\n", i);
    }
    /* bad base64 in an otherwise valid token: one '*' in the signature */
    char t[1024];
    snprintf(t, sizeof t, "%s", good);
    char *p = strstr(t, "sig=") + 4;
    *p = '*';
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EINVAL);
    /* bad URL encoding in sr of an otherwise valid token */
    snprintf(t, sizeof t, "%s", good);
    p = strstr(t, "%3A");
    p[1] = 'Z';
    CHECK_EQ_INT(token(t, NOW_MS, &id, &why), -EINVAL);
    /* every prefix: never accepted, never a crash */
    size_t gl = strlen(good);
    for (size_t n = 0; n < gl; n++) {
        int r = fe_sas_verify_token(&conf, guarded(good, n), n, NOW_MS, &id, &why);
        CHECK(r == -EINVAL || r == -EACCES);
    }
    CHECK_EQ_INT(fe_sas_verify_token(&conf, guarded(good, gl), gl, NOW_MS, &id, &why), 0);
}

static int plain(const void *msg, size_t n, fe_sas_identity *id, const char **why) {
    return fe_sas_verify_plain(&conf, (const uint8_t *)guarded(msg, n), n, NOW_MS, id, why);
}

static void test_plain(void) {
    fe_sas_identity id;
    const char *why;
    char m[512];
    const char *cs = "Endpoint=sb://ns/;SharedAccessKeyName=sender;SharedAccessKey=" KEY_SEND;
    int n = snprintf(m, sizeof m, "%c$ConnectionString%c%s", 0, 0, cs);
    CHECK_EQ_INT(plain(m, (size_t)n, &id, &why), 0);
    CHECK(id.policy == &conf.policies[1]);
    /* authzid equal to the username is fine, another one is not */
    n = snprintf(m, sizeof m, "$ConnectionString%c$ConnectionString%c%s", 0, 0, cs);
    CHECK_EQ_INT(plain(m, (size_t)n, &id, &why), 0);
    n = snprintf(m, sizeof m, "admin%c$ConnectionString%c%s", 0, 0, cs);
    CHECK_EQ_INT(plain(m, (size_t)n, &id, &why), -EINVAL);
    /* other usernames */
    n = snprintf(m, sizeof m, "%c$connectionstring%c%s", 0, 0, cs);
    CHECK_EQ_INT(plain(m, (size_t)n, &id, &why), -EINVAL);
    n = snprintf(m, sizeof m, "%cuser%c%s", 0, 0, cs);
    CHECK_EQ_INT(plain(m, (size_t)n, &id, &why), -EINVAL);
    CHECK(why && strstr(why, "$ConnectionString"));
    /* structure: no NULs, one NUL, three NULs, empty password, empty input */
    CHECK_EQ_INT(plain("$ConnectionString", 17, &id, &why), -EINVAL);
    n = snprintf(m, sizeof m, "%c$ConnectionString", 0);
    CHECK_EQ_INT(plain(m, (size_t)n, &id, &why), -EINVAL);
    n = snprintf(m, sizeof m, "%c$ConnectionString%c%s", 0, 0, cs);
    m[n] = '\0';
    CHECK_EQ_INT(plain(m, (size_t)n + 1, &id, &why), -EINVAL);
    n = snprintf(m, sizeof m, "%c$ConnectionString%c", 0, 0);
    CHECK_EQ_INT(plain(m, (size_t)n, &id, &why), -EINVAL);
    CHECK_EQ_INT(plain("", 0, &id, &why), -EINVAL);
    CHECK_EQ_INT(plain("\0\0", 2, &id, &why), -EINVAL);
    /* wrong key reaches the policy check */
    n = snprintf(m, sizeof m, "%c$ConnectionString%c%sX", 0, 0, cs);
    CHECK_EQ_INT(plain(m, (size_t)n, &id, &why), -EACCES);
}

static void test_rights(void) {
    fe_conn c;
    memset(&c, 0, sizeof c);
    c.rights = FE_RIGHT_SEND;
    CHECK_EQ_INT(fe_auth_topic(&c, FE_RIGHT_SEND, "t", 1), KAFKA_ERR_NONE);
    CHECK_EQ_INT(fe_auth_topic(&c, FE_RIGHT_LISTEN, "t", 1), KAFKA_ERR_TOPIC_AUTHORIZATION_FAILED);
    CHECK_EQ_INT(fe_auth_group(&c), KAFKA_ERR_GROUP_AUTHORIZATION_FAILED);
    CHECK_EQ_INT(fe_auth_cluster(&c, FE_RIGHT_MANAGE), KAFKA_ERR_CLUSTER_AUTHORIZATION_FAILED);
    c.rights = FE_RIGHT_SEND | FE_RIGHT_LISTEN | FE_RIGHT_MANAGE;
    CHECK_EQ_INT(fe_auth_cluster(&c, FE_RIGHT_MANAGE), KAFKA_ERR_NONE);
    snprintf(c.entity_path, sizeof c.entity_path, "orders");
    CHECK(fe_auth_topic_visible(&c, "orders"));
    CHECK(!fe_auth_topic_visible(&c, "orders2"));
    CHECK(!fe_auth_topic_visible(&c, "Orders"));
    CHECK_EQ_INT(fe_auth_topic(&c, FE_RIGHT_SEND, "ord", 3), KAFKA_ERR_TOPIC_AUTHORIZATION_FAILED);
    CHECK_EQ_INT(fe_auth_topic(&c, FE_RIGHT_SEND, "orders", 6), KAFKA_ERR_NONE);
    /* a scoped session never administers the cluster */
    CHECK_EQ_INT(fe_auth_cluster(&c, FE_RIGHT_MANAGE), KAFKA_ERR_CLUSTER_AUTHORIZATION_FAILED);
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    setup_conf();
    RUN(test_conn_str_valid);
    RUN(test_conn_str_entity_path);
    RUN(test_conn_str_refused);
    RUN(test_conn_str_malformed);
    RUN(test_token_valid);
    RUN(test_token_scoped);
    RUN(test_token_refused);
    RUN(test_token_malformed);
    RUN(test_plain);
    RUN(test_rights);
    return unit_done();
}
