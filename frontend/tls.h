/* tls.h — TLS for client listeners (OpenSSL through libevent's
 * bufferevent_openssl). SSL_* details stay in tls.c. */
#ifndef EDDY_FE_TLS_H
#define EDDY_FE_TLS_H

#include "fe.h"

/** Build the server context from the configured certificate and key (TLS 1.2
 *  and 1.3 only). Returns NULL and logs the reason on failure. */
void *fe_tls_ctx_new(const fe_config *conf);
/** Reload certificate and key into a new context (SIGHUP); returns NULL and
 *  keeps the old one in use on failure. */
void fe_tls_ctx_free(void *ctx);
/** A server-side TLS bufferevent for an accepted socket (owns @p fd). */
struct bufferevent *fe_tls_bufferevent(fe_worker *w, int fd);
/** Log why a TLS connection failed, if it was TLS at all (once). */
void fe_tls_log_error(struct bufferevent *bev, const char *peer);

#endif
