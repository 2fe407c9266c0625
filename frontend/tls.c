/* tls.c — server SSL_CTX, its reload on SIGHUP, and TLS bufferevents
 * (see tls.h for who owns which reference). */
#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "log.h"
#include "net_read.h"

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

/* OpenSSL reads a record's 5-byte header and its body separately; straight
 * from the socket that is two read() calls per 16 KiB record. Through a
 * filter over a plain socket bufferevent, reads of up to this much per
 * wakeup (sock_readcb) fill a buffer that OpenSSL reads records from. */
#define FE_TLS_SOCKET_READ (1u << 20)
#define FE_TLS_SOCKET_WRITE (4u << 20)

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
    struct bufferevent *sock = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!sock) {
        SSL_free(ssl);
        return NULL;
    }
    bufferevent_set_max_single_write(sock, FE_TLS_SOCKET_WRITE);
    /* OpenSSL encrypts into the socket side only while it holds less than
     * this; past it the plaintext waits in the filter, where conn.c's
     * back-pressure sees it (and fe_tls_unsent reports the rest) */
    bufferevent_setwatermark(sock, EV_WRITE, FE_TLS_SOCKET_WRITE / 4, FE_TLS_SOCKET_WRITE);
    struct bufferevent *bev = bufferevent_openssl_filter_new(
        w->base, sock, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        bufferevent_setfd(sock, -1); /* the caller still owns fd */
        bufferevent_free(sock);
        return NULL;
    }
    /* bufferevent_openssl decrypts 4 KiB per SSL_read unless a read high
     * watermark is set; then it asks for up to the single-read limit, one
     * record per call. The watermark stays above the largest frame, which
     * conn.c must be able to buffer whole, so it never stops reading. */
    bufferevent_setwatermark(bev, EV_READ, 0, w->conf->max_request_bytes + FE_TLS_SOCKET_READ);
    bufferevent_set_max_single_read(bev, FE_TLS_SOCKET_READ);
    /* a client that closes without close_notify is normal for Kafka clients */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

/* libevent's own callbacks on the socket side of an open TLS filter (the
 * same functions for every connection; their context is the filter). */
static _Atomic(bufferevent_data_cb) open_readcb, open_writecb;

/* Read on past libevent's 4 KiB before OpenSSL looks (net_read.h). Errors
 * and end of stream are left in the socket for libevent's next read, which
 * reports them through the filter's event callback. */
static void sock_readcb(struct bufferevent *sock, void *ctx) {
    (void)net_read_fill(bufferevent_get_input(sock), bufferevent_getfd(sock), FE_TLS_SOCKET_READ);
    atomic_load(&open_readcb)(sock, ctx);
}

/* The filter's write callback runs when ITS output drains, which is as soon
 * as OpenSSL has encrypted it into the socket side; a connection that
 * closes after its last response needs to hear when the socket has taken
 * the bytes too. */
static void sock_writecb(struct bufferevent *sock, void *ctx) {
    atomic_load(&open_writecb)(sock, ctx);
    struct bufferevent *bev = ctx;
    if (evbuffer_get_length(bufferevent_get_output(sock)) == 0 &&
        evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        bufferevent_trigger(bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* Remember libevent's callback in @p slot, or check it is the one seen. */
static bool same_cb(_Atomic(bufferevent_data_cb) *slot, bufferevent_data_cb cb) {
    bufferevent_data_cb seen = NULL;
    return cb && (atomic_compare_exchange_strong(slot, &seen, cb) || seen == cb);
}

int fe_tls_opened(struct bufferevent *bev) {
    struct bufferevent *sock = bufferevent_get_underlying(bev);
    bufferevent_data_cb rcb, wcb;
    bufferevent_event_cb ecb;
    void *ctx;
    if (!sock)
        return -EINVAL;
    bufferevent_getcb(sock, &rcb, &wcb, &ecb, &ctx);
    if (rcb == sock_readcb)
        return 0;
    if (ctx != bev || !same_cb(&open_readcb, rcb) || !same_cb(&open_writecb, wcb))
        return -ENOTSUP; /* not the libevent we know: keep its 4 KiB reads */
    bufferevent_setcb(sock, sock_readcb, sock_writecb, ecb, ctx);
    return 0;
}

size_t fe_tls_unsent(struct bufferevent *bev) {
    struct bufferevent *sock = bufferevent_get_underlying(bev);
    return sock ? evbuffer_get_length(bufferevent_get_output(sock)) : 0;
}

void fe_tls_log_error(struct bufferevent *bev, const char *peer) {
    if (!bev || !bufferevent_openssl_get_ssl(bev))
        return;
    unsigned long e = bufferevent_get_openssl_error(bev);
    if (e)
        LOG_INFO("tls", "%s: TLS error: %s", peer, ERR_reason_error_string(e));
}
