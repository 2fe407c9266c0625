/* rpc_tls.c — the internal RPC's mutual-TLS contexts (see rpc_tls.h). */
#include "rpc_tls.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

struct rpc_tls {
    atomic_int refs;
    SSL_CTX *server; /* verifies and requires the client's certificate */
    SSL_CTX *client; /* verifies the server's certificate */
};

/* The OpenSSL error queue's first reason; the queue is cleared. */
static void ssl_reason(char *buf, size_t cap) {
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, cap); /* also names system errors (ENOENT) */
    else
        snprintf(buf, cap, "unknown OpenSSL error");
    ERR_clear_error();
}

static SSL_CTX *ctx_load(bool server, const char *ca, const char *cert, const char *key,
                         int *ret, char *err, size_t errlen) {
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        *ret = -ENOMEM;
        snprintf(err, errlen, "rpc_tls: cannot create a TLS context");
        return NULL;
    }
    *ret = -EINVAL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        ssl_reason(why, sizeof why);
        snprintf(err, errlen, "rpc_tls: cannot load CA %s: %s", ca, why);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_reason(why, sizeof why);
        snprintf(err, errlen, "rpc_tls: cannot load certificate %s: %s", cert, why);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_reason(why, sizeof why);
        snprintf(err, errlen, "rpc_tls: cannot load private key %s: %s", key, why);
        goto fail;
    }
    /* Peers are authenticated by the CA alone: no host name check (see
     * rpc_tls.h). A server refuses a client that sends no certificate. */
    SSL_CTX_set_verify(ctx, server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                   : SSL_VERIFY_PEER,
                       NULL);
    if (server) {
        /* ask for certificates of our CA (the list goes in CertificateRequest) */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        /* no session resumption: every connection shows its certificate */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    *ret = 0;
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int rpc_tls_new(const char *ca, const char *cert, const char *key, rpc_tls **out, char *err,
                size_t errlen) {
    if (!ca || !cert || !key || !*ca || !*cert || !*key) {
        snprintf(err, errlen, "rpc_tls: ca, cert and key are all required");
        return -EINVAL;
    }
    rpc_tls *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int r;
    ERR_clear_error();
    t->server = ctx_load(true, ca, cert, key, &r, err, errlen);
    if (t->server)
        t->client = ctx_load(false, ca, cert, key, &r, err, errlen);
    if (!t->client) {
        SSL_CTX_free(t->server);
        free(t);
        return r;
    }
    atomic_init(&t->refs, 1);
    *out = t;
    return 0;
}

void rpc_tls_ref(rpc_tls *t) { atomic_fetch_add(&t->refs, 1); }

void rpc_tls_unref(rpc_tls *t) {
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    /* connections still open hold their own references (SSL_new) */
    SSL_CTX_free(t->server);
    SSL_CTX_free(t->client);
    free(t);
}

struct bufferevent *rpc_tls_bufferevent(rpc_tls *t, struct event_base *base, int fd,
                                        bool accepting) {
    SSL *ssl = SSL_new(accepting ? t->server : t->client);
    if (!ssl)
        return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, fd, ssl, accepting ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
        BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    /* a peer that dies or is stopped closes without close_notify: that is
     * an end of stream like any other for the RPC */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

bool rpc_tls_is_tls(struct bufferevent *bev) {
    return bev && bufferevent_openssl_get_ssl(bev) != NULL;
}

void rpc_tls_error(struct bufferevent *bev, char *buf, size_t cap) {
    if (cap)
        buf[0] = '\0';
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
    if (!ssl)
        return;
    unsigned long e = bufferevent_get_openssl_error(bev);
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK)
        snprintf(buf, cap, "TLS: %s", X509_verify_cert_error_string(v));
    else if (e)
        snprintf(buf, cap, "TLS: %s", ERR_reason_error_string(e));
    /* drain what is left for this connection */
    while (bufferevent_get_openssl_error(bev))
        ;
}
