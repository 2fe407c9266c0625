#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "log.h"

void *fe_tls_ctx_new(const fe_config *conf) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* forward-secret AEAD suites only for TLS 1.2; 1.3 suites are all fine */
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* kept small: a TLS session per idle client should not pin buffers */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, conf->tls_cert) != 1) {
        LOG_ERROR("tls", "cannot load certificate %s: %s", conf->tls_cert,
                  ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, conf->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        LOG_ERROR("tls", "cannot load private key %s: %s", conf->tls_key,
                  ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void fe_tls_ctx_free(void *ctx) { SSL_CTX_free(ctx); }

struct bufferevent *fe_tls_bufferevent(fe_worker *w, int fd) {
    SSL *ssl = SSL_new(w->tls_ctx);
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
