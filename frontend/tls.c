/* tls.c — server SSL_CTX, its reload on SIGHUP, and TLS bufferevents
 * (see tls.h for who owns which reference). */
#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "log.h"

struct fe_tls {
    const fe_config *conf;
    pthread_mutex_t lock; /* guards ctx: read + up_ref vs. swap */
    SSL_CTX *ctx;         /* one reference held here */
};

/* The OpenSSL error queue as one reason; the queue is cleared. */
static void ssl_reason(char *buf, size_t cap) {
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, cap, "%s", r ? r : "unknown OpenSSL error");
    ERR_clear_error();
}

/* A new context from the configured paths, or NULL with the reason in err. */
static SSL_CTX *ctx_load(const fe_config *conf, int *ret, char *err, size_t errlen) {
    char why[256];
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        *ret = -ENOMEM;
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* forward-secret AEAD suites only for TLS 1.2; 1.3 suites are all fine */
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* kept small: a TLS session per idle client should not pin buffers */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, conf->tls_cert) != 1) {
        ssl_reason(why, sizeof why);
        snprintf(err, errlen, "cannot load certificate %s: %s", conf->tls_cert, why);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, conf->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_reason(why, sizeof why);
        snprintf(err, errlen, "cannot load private key %s: %s", conf->tls_key, why);
        goto fail;
    }
    *ret = 0;
    return ctx;
fail:
    *ret = -EINVAL;
    SSL_CTX_free(ctx);
    return NULL;
}

/* "serial <hex>, expires <date>" of the context's certificate. */
static void describe(SSL_CTX *ctx, char *out, size_t cap) {
    X509 *x = SSL_CTX_get0_certificate(ctx);
    snprintf(out, cap, "no certificate");
    if (!x)
        return;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    char expiry[64] = "?";
    BIO *b = BIO_new(BIO_s_mem());
    if (b && ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1) {
        int n = BIO_read(b, expiry, (int)sizeof expiry - 1);
        expiry[n > 0 ? n : 0] = '\0';
    }
    snprintf(out, cap, "serial %s, expires %s", hex ? hex : "?", expiry);
    BIO_free(b);
    OPENSSL_free(hex);
    BN_free(bn);
}

int fe_tls_new(const fe_config *conf, fe_tls **out, char *err, size_t errlen) {
    fe_tls *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int r;
    t->conf = conf;
    t->ctx = ctx_load(conf, &r, err, errlen);
    if (!t->ctx) {
        free(t);
        return r;
    }
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

int fe_tls_reload(fe_tls *t, char *err, size_t errlen) {
    int r;
    SSL_CTX *fresh = ctx_load(t->conf, &r, err, errlen);
    if (!fresh)
        return r; /* the old context stays in use */
    describe(fresh, err, errlen);
    pthread_mutex_lock(&t->lock);
    SSL_CTX *old = t->ctx;
    t->ctx = fresh;
    pthread_mutex_unlock(&t->lock);
    /* connections on the old context hold their own references */
    SSL_CTX_free(old);
    return 0;
}

void fe_tls_free(fe_tls **t) {
    if (!t || !*t)
        return;
    SSL_CTX_free((*t)->ctx);
    pthread_mutex_destroy(&(*t)->lock);
    free(*t);
    *t = NULL;
}

struct bufferevent *fe_tls_bufferevent(fe_worker *w, int fd) {
    fe_tls *t = w->tls_ctx;
    pthread_mutex_lock(&t->lock);
    SSL_CTX *ctx = t->ctx;
    SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&t->lock);
    SSL *ssl = SSL_new(ctx); /* takes its own reference */
    SSL_CTX_free(ctx);
    if (!ssl)
        return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    /* a client that closes without close_notify is normal for Kafka clients */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

void fe_tls_log_error(struct bufferevent *bev, const char *peer) {
    if (!bev || !bufferevent_openssl_get_ssl(bev))
        return;
    unsigned long e = bufferevent_get_openssl_error(bev);
    if (e)
        LOG_INFO("tls", "%s: TLS error: %s", peer, ERR_reason_error_string(e));
}
