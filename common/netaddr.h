/* netaddr.h — "host:port" addresses for RPC clients, RPC servers and the
 * binaries' listeners.
 *
 * Accepted forms: "name:port", "1.2.3.4:port", "[v6]:port" (an IPv6 literal
 * always in brackets, since its colons would make the port ambiguous) and
 * ":port" (no host: every local address, for listeners only). Host names are
 * kept as text: Docker Compose gives services DNS names that must be resolved
 * when connecting, not when the config is read. */
#ifndef EDDY_NETADDR_H
#define EDDY_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** Longest host accepted, NUL included (a DNS name is at most 253 bytes). */
#define NETADDR_HOST_MAX 256

typedef struct netaddr {
    char host[NETADDR_HOST_MAX]; /* without brackets; "" means any address */
    uint16_t port;
} netaddr;

/** Split @p s into host and port. Returns 0, or -EINVAL when @p s is NULL,
 *  has no port, a port outside 0..65535, an unbracketed IPv6 literal, a host
 *  with spaces or control characters, or a host too long. */
int netaddr_parse(const char *s, netaddr *out);

/** Fill @p ss / @p len when the host of @p a is a numeric IPv4 or IPv6
 *  literal, or empty (then 0.0.0.0). Never blocks. Returns 0, or -ENOENT when
 *  the host is a name that needs resolving. */
int netaddr_to_sockaddr(const netaddr *a, struct sockaddr_storage *ss, socklen_t *len);

/** Resolve @p a with the system resolver (getaddrinfo) and fill the first
 *  TCP address. This BLOCKS: use it only before an event loop runs (to bind
 *  a listener at startup); connections resolve asynchronously (rpc_client).
 *  @p passive: an address to bind to. Returns 0, -ENOENT (no such name),
 *  -EAGAIN (temporary resolver failure), -ENOMEM or -EINVAL. */
int netaddr_resolve(const netaddr *a, bool passive, struct sockaddr_storage *ss, socklen_t *len);

/** Write @p sa as "1.2.3.4:port" or "[v6]:port" into @p buf (always
 *  NUL-terminated when @p cap > 0). Returns 0, -EAFNOSUPPORT (not IPv4/IPv6)
 *  or -ENOSPC. */
int netaddr_format(const struct sockaddr *sa, char *buf, size_t cap);

#endif
