/* Unit tests of mutual TLS on the internal RPC (rpc_tls.h): a CA, its
 * certificates and a second, foreign CA are generated at test time with
 * OpenSSL's C API into a temporary directory. Checks: a 1 MiB tail
 * round-trips both ways over mutual TLS (the direct socket reads of
 * rpc_frame_fill must stay off for TLS); a client with no certificate, with
 * one from the foreign CA, or with no TLS at all is refused while the server
 * keeps serving a good client; a client refuses a server whose certificate
 * is from the foreign CA; bad files are reported. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "log.h"
#include "rpc.h"
#include "rpc_tls.h"
#include "unit.h"

static struct event_base *base;
static char dir[64];

static void deadline_cb(evutil_socket_t fd, short what, void *arg) { *(int *)arg = 1; }

#define WAIT_FOR(expr, ms)                                                       \
    do {                                                                         \
        int _expired = 0;                                                        \
        struct timeval _tv = {(ms) / 1000, ((ms) % 1000) * 1000};               \
        struct event *_dl = evtimer_new(base, deadline_cb, &_expired);           \
        evtimer_add(_dl, &_tv);                                                  \
        while (!(expr) && !_expired)                                             \
            event_base_loop(base, EVLOOP_ONCE);                                  \
        event_free(_dl);                                                         \
    } while (0)

/* ---- certificates ----------------------------------------------------------- */

static EVP_PKEY *gen_key(void) {
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    if (pc && EVP_PKEY_keygen_init(pc) == 1 &&
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(pc, NID_X9_62_prime256v1) == 1)
        EVP_PKEY_keygen(pc, &k);
    EVP_PKEY_CTX_free(pc);
    return k;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    CHECK(e != NULL);
    if (e) {
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
}

/* A certificate for @p cn with key @p key, signed by @p issuer / @p ikey
 * (both NULL: self-signed CA). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long serial) {
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_set_pubkey(x, key);
    if (!issuer) {
        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
        add_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
        add_ext(x, issuer, NID_subject_alt_name, "IP:127.0.0.1");
    }
    CHECK(X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0);
    return x;
}

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%.63s/%.40s.pem", dir, name);
}

static void write_pem(const char *name, X509 *x, EVP_PKEY *k) {
    char p[128];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    if (x)
        CHECK(PEM_write_X509(f, x) == 1);
    if (k)
        CHECK(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
    fclose(f);
}

/* ca.pem, {server,client,rogue}-{cert,key}.pem, other-ca.pem: server and
 * client are issued by ca, rogue by other-ca. */
static void make_pki(void) {
    EVP_PKEY *cak = gen_key(), *ok = gen_key(), *sk = gen_key(), *ck = gen_key(), *rk = gen_key();
    CHECK(cak && ok && sk && ck && rk);
    X509 *ca = make_cert("eddy-test-ca", cak, NULL, NULL, 1);
    X509 *other = make_cert("eddy-test-ca", ok, NULL, NULL, 1); /* same name, other key */
    X509 *sc = make_cert("server", sk, ca, cak, 2);
    X509 *cc = make_cert("client", ck, ca, cak, 3);
    X509 *rc = make_cert("client", rk, other, ok, 4);
    write_pem("ca", ca, NULL);
    write_pem("other-ca", other, NULL);
    write_pem("server-cert", sc, NULL);
    write_pem("server-key", NULL, sk);
    write_pem("client-cert", cc, NULL);
    write_pem("client-key", NULL, ck);
    write_pem("rogue-cert", rc, NULL);
    write_pem("rogue-key", NULL, rk);
    X509 *xs[] = {ca, other, sc, cc, rc};
    EVP_PKEY *ks[] = {cak, ok, sk, ck, rk};
    for (int i = 0; i < 5; i++) {
        X509_free(xs[i]);
        EVP_PKEY_free(ks[i]);
    }
}

/* An rpc_tls trusting @p ca, presenting @p who's certificate. */
static rpc_tls *tls_for(const char *ca, const char *who) {
    char a[128], c[128], k[128], n[64], err[512];
    path_of(a, sizeof a, ca);
    snprintf(n, sizeof n, "%s-cert", who);
    path_of(c, sizeof c, n);
    snprintf(n, sizeof n, "%s-key", who);
    path_of(k, sizeof k, n);
    rpc_tls *t = NULL;
    int r = rpc_tls_new(a, c, k, &t, err, sizeof err);
    if (r < 0)
        fprintf(stderr, "rpc_tls_new: %s\n", err);
    CHECK_EQ_INT(r, 0);
    return t;
}

/* ---- server: echo the tail plus one byte --------------------------------------- */

static int handled;

static void handler(rpc_call *call, void *arg) {
    rpc_frame *f = rpc_call_frame(call);
    handled++;
    Eddy__ClusterMap map = EDDY__CLUSTER_MAP__INIT;
    map.version = 7;
    struct evbuffer *tail = evbuffer_new();
    evbuffer_add(tail, f->tail, f->tail_len);
    evbuffer_add(tail, "\x5a", 1);
    CHECK_EQ_INT(rpc_call_reply(call, EDDY__STATUS__OK, &map.base, tail), 0);
    evbuffer_free(tail);
}

static rpc_server *start_server(rpc_tls *t, char *addr, size_t cap) {
    rpc_server *s = rpc_server_new_tls(base, "127.0.0.1:0", 0, t, handler, NULL);
    CHECK(s != NULL);
    if (s)
        snprintf(addr, cap, "127.0.0.1:%d", rpc_server_port(s));
    return s;
}

/* ---- client calls --------------------------------------------------------------- */

typedef struct result {
    bool done;
    int err;
    size_t sent;
    bool tail_ok;
} result;

static void on_reply(int err, rpc_frame *reply, void *arg) {
    result *res = arg;
    res->done = true;
    res->err = err;
    if (err)
        return;
    res->tail_ok = reply->tail_len == res->sent + 1 && reply->tail[res->sent] == 0x5a;
    for (size_t i = 0; res->tail_ok && i < res->sent; i++)
        res->tail_ok = reply->tail[i] == (uint8_t)(i % 251);
}

static void call(rpc_client *c, size_t tail_len, result *res) {
    memset(res, 0, sizeof *res);
    res->sent = tail_len;
    Eddy__GetMapRequest req = EDDY__GET_MAP_REQUEST__INIT;
    struct evbuffer *tail = evbuffer_new();
    uint8_t *p = malloc(tail_len ? tail_len : 1);
    for (size_t i = 0; i < tail_len; i++)
        p[i] = (uint8_t)(i % 251);
    evbuffer_add(tail, p, tail_len);
    free(p);
    CHECK(rpc_client_call(c, EDDY__METHOD__GET_MAP, 1, &req.base, tail, 5000, on_reply, res) > 0);
    evbuffer_free(tail);
    WAIT_FOR(res->done, 6000);
    CHECK(res->done);
}

static rpc_client *client(const char *addr, rpc_tls *t) {
    rpc_client_opts o = {.tls = t, .connect_timeout_ms = 2000, .backoff_max_ms = 100};
    rpc_client *c = rpc_client_new(base, addr, &o);
    CHECK(c != NULL);
    return c;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_mutual_tls_big_tail(void) {
    rpc_tls *st = tls_for("ca", "server"), *ct = tls_for("ca", "client");
    char addr[64];
    rpc_server *s = start_server(st, addr, sizeof addr);
    rpc_tls_unref(st); /* the server holds its own reference */
    rpc_client *c = client(addr, ct);
    rpc_tls_unref(ct);
    result res;
    handled = 0;
    call(c, 1u << 20, &res); /* 1 MiB up, 1 MiB + 1 back */
    CHECK_EQ_INT(res.err, 0);
    CHECK(res.tail_ok);
    CHECK(rpc_client_connected(c));
    /* several in a row on the same connection, and a small one */
    call(c, 3u << 20, &res);
    CHECK_EQ_INT(res.err, 0);
    CHECK(res.tail_ok);
    call(c, 10, &res);
    CHECK_EQ_INT(res.err, 0);
    CHECK(res.tail_ok);
    CHECK_EQ_INT(handled, 3);
    rpc_client_free(c);
    rpc_server_free(s);
}

/* A raw TLS client that trusts the CA but shows no certificate: connects,
 * sends a well-formed frame, and must get no answer but a closed stream. */
typedef struct raw {
    bool closed;
    size_t got;
} raw;

static void raw_read(struct bufferevent *bev, void *arg) {
    raw *r = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    r->got += evbuffer_get_length(in);
    evbuffer_drain(in, evbuffer_get_length(in));
}

static void raw_event(struct bufferevent *bev, short what, void *arg) {
    raw *r = arg;
    if (what & BEV_EVENT_CONNECTED) {
        Eddy__RpcHeader hdr = EDDY__RPC_HEADER__INIT;
        hdr.id = 1;
        hdr.method = EDDY__METHOD__GET_MAP;
        Eddy__GetMapRequest req = EDDY__GET_MAP_REQUEST__INIT;
        rpc_frame_write(bufferevent_get_output(bev), &hdr, &req.base, NULL);
    } else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        r->closed = true;
    }
}

static void no_cert_client(const char *addr) {
    char ca[128];
    path_of(ca, sizeof ca, "ca");
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    CHECK(SSL_CTX_load_verify_locations(ctx, ca, NULL) == 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    raw r = {0};
    bufferevent_setcb(bev, raw_read, NULL, raw_event, &r);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    sin.sin_port = htons((uint16_t)atoi(strchr(addr, ':') + 1));
    CHECK(bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof sin) == 0);
    WAIT_FOR(r.closed, 5000);
    CHECK(r.closed);
    CHECK_EQ_INT(r.got, 0);
    bufferevent_free(bev);
}

static void test_refused_clients(void) {
    rpc_tls *st = tls_for("ca", "server");
    rpc_tls *good = tls_for("ca", "client");
    rpc_tls *rogue = tls_for("other-ca", "rogue"); /* cert from another CA */
    char addr[64];
    rpc_server *s = start_server(st, addr, sizeof addr);
    handled = 0;
    result res;

    /* a certificate from another CA: refused (during the handshake, or
     * right after it with TLS 1.3, where the client finishes first) */
    rpc_client *bad = client(addr, rogue);
    call(bad, 100, &res);
    CHECK(res.err == -ECONNRESET || res.err == -ECONNREFUSED);
    CHECK(!rpc_client_connected(bad));

    /* no certificate at all */
    no_cert_client(addr);

    /* no TLS: the server reads a ClientHello-less stream as garbage */
    rpc_client *plain = client(addr, NULL);
    call(plain, 100, &res);
    CHECK(res.err == -ECONNRESET || res.err == -ECONNREFUSED);
    CHECK_EQ_INT(handled, 0);

    /* the server still serves a good client, also with the others retrying */
    rpc_client *c = client(addr, good);
    call(c, 1u << 20, &res);
    CHECK_EQ_INT(res.err, 0);
    CHECK(res.tail_ok);
    call(bad, 100, &res);
    CHECK(res.err == -ECONNRESET || res.err == -ECONNREFUSED);
    call(c, 1000, &res);
    CHECK_EQ_INT(res.err, 0);
    CHECK(res.tail_ok);
    CHECK_EQ_INT(handled, 2);

    rpc_client_free(bad);
    rpc_client_free(plain);
    rpc_client_free(c);
    rpc_server_free(s);
    rpc_tls_unref(st);
    rpc_tls_unref(good);
    rpc_tls_unref(rogue);
}

/* The client checks the server too: a server with a foreign certificate,
 * or a plaintext server, is never sent the call. */
static void test_client_verifies_server(void) {
    rpc_tls *st = tls_for("other-ca", "rogue"); /* trusts other-ca only, too */
    rpc_tls *ct = tls_for("ca", "client");
    char addr[64];
    rpc_server *s = start_server(st, addr, sizeof addr);
    handled = 0;
    rpc_client *c = client(addr, ct);
    result res;
    call(c, 100, &res);
    CHECK_EQ_INT(res.err, -ECONNREFUSED);
    rpc_client_free(c);
    rpc_server_free(s);

    s = start_server(NULL, addr, sizeof addr); /* plaintext */
    c = client(addr, ct);
    call(c, 100, &res);
    CHECK_EQ_INT(res.err, -ECONNREFUSED);
    CHECK_EQ_INT(handled, 0);
    rpc_client_free(c);
    rpc_server_free(s);
    rpc_tls_unref(st);
    rpc_tls_unref(ct);
}

static void test_bad_files(void) {
    char ca[128], cert[128], key[128], other_key[128], err[512] = "";
    path_of(ca, sizeof ca, "ca");
    path_of(cert, sizeof cert, "client-cert");
    path_of(key, sizeof key, "client-key");
    path_of(other_key, sizeof other_key, "server-key");
    rpc_tls *t = NULL;
    CHECK_EQ_INT(rpc_tls_new("/nonexistent/ca.pem", cert, key, &t, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);
    CHECK_EQ_INT(rpc_tls_new(ca, cert, other_key, &t, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "private key") != NULL);
    CHECK_EQ_INT(rpc_tls_new(ca, key, key, &t, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "certificate") != NULL);
    CHECK_EQ_INT(rpc_tls_new(ca, cert, NULL, &t, err, sizeof err), -EINVAL);
    CHECK(t == NULL);
}

int main(void) {
    eddy_log_set_level(EDDY_LOG_ERROR); /* refused handshakes are expected here */
    signal(SIGPIPE, SIG_IGN);
    if (!unit_tmpdir(dir, sizeof dir, "rpc-tls")) {
        perror("mkdtemp");
        return 1;
    }
    base = event_base_new();
    make_pki();
    RUN(test_mutual_tls_big_tail);
    RUN(test_refused_clients);
    RUN(test_client_verifies_server);
    RUN(test_bad_files);
    WAIT_FOR(0, 20);
    event_base_free(base);
    const char *names[] = {"ca", "other-ca", "server-cert", "server-key", "client-cert",
                           "client-key", "rogue-cert", "rogue-key"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char p[128];
        path_of(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return unit_done();
}
