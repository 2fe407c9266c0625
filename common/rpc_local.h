/* rpc_local.h — RPC between processes of one host over abstract unix
 * sockets.
 *
 * A broker listens on its TCP address and, besides, on an abstract unix
 * socket with a random name that it announces in the cluster map. A peer
 * that can reach that name (same host and network namespace: a local
 * cluster, containers sharing the host's network) connects there first and
 * falls back to TCP otherwise. The frames and the protocol are the same;
 * only the transport is cheaper: moving a fetched gigabyte over loopback TCP
 * cost both ends about three times the CPU of a unix socket
 * (docs/performance.md), and on a machine whose cores are shared with the
 * clients that CPU is taken from them.
 *
 * Why abstract and random: an abstract name lives in the network namespace,
 * not in a file system, so there is no file to clean up or to protect, and a
 * random name can only be reached by a peer that learnt it from the map: a
 * process of another cluster (or another broker after a restart) is never
 * mistaken for the broker meant. Nothing is more exposed than the TCP
 * listener already is; with RPC TLS the handshake runs over the unix socket
 * just the same. */
#ifndef EDDY_RPC_LOCAL_H
#define EDDY_RPC_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/** Longest name accepted, NUL not included. */
#define RPC_LOCAL_NAME_MAX 64

/** True when @p name (may be NULL) is a name this module accepts: 1 to
 *  RPC_LOCAL_NAME_MAX characters of [A-Za-z0-9._-]. */
bool rpc_local_name_valid(const char *name);

/** Fill @p sun / @p len with the abstract address of @p name (as
 *  rpc_local_name_valid). Returns 0 or -EINVAL. */
int rpc_local_sockaddr(const char *name, struct sockaddr_un *sun, socklen_t *len);

/** Write a fresh random name ("eddy-rpc-" and 32 hex digits) into @p buf.
 *  Returns 0, -ENOSPC when @p cap is too small, or -errno of getrandom(). */
int rpc_local_name_new(char *buf, size_t cap);

/** Socket options for a connected local socket @p fd (either end). */
void rpc_local_tune(int fd);

#endif
