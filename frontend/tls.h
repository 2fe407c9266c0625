/* tls.h — TLS for client listeners (OpenSSL through libevent's
 * bufferevent_openssl). SSL_* details stay in tls.c.
 *
 * An fe_tls holds the current server SSL_CTX. The main thread replaces it on
 * SIGHUP (fe_tls_reload); worker threads take it for each NEW connection
 * (fe_tls_bufferevent). Ownership: the fe_tls holds one reference on the
 * current SSL_CTX; every SSL holds its own (SSL_new), so a connection keeps
 * the context it started with, and a replaced context is freed by OpenSSL
 * when its last connection goes. A short mutex covers "read the pointer and
 * take a reference" against "swap the pointer and drop the old reference". */
#ifndef EDDY_FE_TLS_H
#define EDDY_FE_TLS_H

#include <stddef.h>

#include "fe.h"

typedef struct fe_tls fe_tls;

/** Load the configured certificate chain and key (TLS 1.2 and 1.3 only).
 *  @p conf must outlive the object. Returns 0 or -errno with the reason
 *  (file and OpenSSL error, no key material) in @p err. */
int fe_tls_new(const fe_config *conf, fe_tls **out, char *err, size_t errlen);
/** Build a new context from the configured paths and, on success, use it
 *  for new connections; on failure keep the old one. Returns 0 or -errno
 *  with the reason in @p err; on success @p err describes the certificate
 *  (serial, expiry). */
int fe_tls_reload(fe_tls *t, char *err, size_t errlen);
/** Free (accepts NULL, clears *@p t). Connections still open keep their
 *  context alive. */
void fe_tls_free(fe_tls **t);
/** A server-side TLS bufferevent for an accepted socket, on the current
 *  context of @p w->tls_ctx (an fe_tls): a filter over a socket bufferevent,
 *  which closes @p fd when freed. On NULL the caller still owns @p fd. */
struct bufferevent *fe_tls_bufferevent(fe_worker *w, int fd);
/** Call once @p bev (from fe_tls_bufferevent) reports BEV_EVENT_CONNECTED:
 *  from then on each socket wakeup reads up to 1 MiB of ciphertext, not
 *  libevent's 4 KiB (net_read.h), and @p bev's write callback also runs
 *  once the socket has taken everything. Returns 0, or -errno when neither
 *  is set up; then a close after the last response may cut it short. */
int fe_tls_opened(struct bufferevent *bev);
/** Bytes of @p bev already encrypted but not yet taken by the socket (they
 *  are no longer in bufferevent_get_output(@p bev)); 0 for a plain one. */
size_t fe_tls_unsent(struct bufferevent *bev);
/** Log why a TLS connection failed, if it was TLS at all (once). */
void fe_tls_log_error(struct bufferevent *bev, const char *peer);

#endif
