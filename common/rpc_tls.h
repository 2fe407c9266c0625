/* rpc_tls.h — mutual TLS for the internal RPC (frontend <-> broker,
 * broker <-> controller, broker <-> broker).
 *
 * One rpc_tls holds two OpenSSL contexts built from the same three PEM
 * files: a server context (verifies the client's certificate and refuses a
 * client without one) and a client context (verifies the server's
 * certificate). Both trust exactly the given CA file, so every member of a
 * cluster must have a certificate issued by that CA, and any such
 * certificate is accepted: the CA is the authorisation. Host names are NOT
 * checked against the certificate (members dial each other by whatever
 * address the cluster map advertises); use a CA dedicated to the cluster's
 * internal traffic. TLS 1.2 and 1.3 only.
 *
 * Ownership: reference counted (atomically: frontend workers share none, but
 * a caller may). rpc_client_new / rpc_server_new_tls take their own
 * reference, so the creator may drop its reference right after. */
#ifndef EDDY_RPC_TLS_H
#define EDDY_RPC_TLS_H

#include <stdbool.h>
#include <stddef.h>

struct bufferevent;
struct event_base;

typedef struct rpc_tls rpc_tls;

/** Load the CA bundle @p ca, the certificate chain @p cert and its private
 *  key @p key (PEM). Returns 0 with *@p out (one reference), or -errno with
 *  the reason (file and OpenSSL error, no key material) in @p err. */
int rpc_tls_new(const char *ca, const char *cert, const char *key, rpc_tls **out, char *err,
                size_t errlen);
void rpc_tls_ref(rpc_tls *t);
/** Drop one reference; frees at zero. Accepts NULL. */
void rpc_tls_unref(rpc_tls *t);

/** A TLS bufferevent on @p base: @p accepting true for an accepted socket
 *  @p fd (server side), false for a client (fd -1: connect it with
 *  bufferevent_socket_connect). BEV_OPT_CLOSE_ON_FREE: freeing it frees the
 *  SSL and closes the socket. NULL on OOM (then @p fd is not closed). */
struct bufferevent *rpc_tls_bufferevent(rpc_tls *t, struct event_base *base, int fd,
                                        bool accepting);

/** True when @p bev is a TLS bufferevent (its socket must then never be read
 *  directly: rpc_frame_fill is skipped). */
bool rpc_tls_is_tls(struct bufferevent *bev);

/** Write the OpenSSL reason of @p bev's last error ("" when none, or not
 *  TLS) into @p buf. */
void rpc_tls_error(struct bufferevent *bev, char *buf, size_t cap);

#endif
