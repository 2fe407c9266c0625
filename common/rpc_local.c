/* rpc_local.c — abstract unix socket names for same-host RPC (rpc_local.h). */
#include "rpc_local.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

/* A unix stream socket has no window: what a sender may have in flight is
 * its send buffer (the default is 208 KiB). A fetched megabyte batch then
 * needs several wake-ups of both ends; 4 MiB (the kernel caps it at
 * net.core.wmem_max) moved a gigabyte with a third of the CPU. */
#define LOCAL_SNDBUF (4 << 20)

bool rpc_local_name_valid(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > RPC_LOCAL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

int rpc_local_sockaddr(const char *name, struct sockaddr_un *sun, socklen_t *len) {
    if (!rpc_local_name_valid(name))
        return -EINVAL;
    size_t n = strlen(name);
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    /* sun_path[0] == '\0': the abstract namespace; the name is the n bytes
     * after it, without a terminator */
    memcpy(sun->sun_path + 1, name, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    return 0;
}

int rpc_local_name_new(char *buf, size_t cap) {
    unsigned char r[16];
    if (cap < sizeof "eddy-rpc-" + 2 * sizeof r)
        return -ENOSPC;
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = getrandom(r + got, sizeof r - got, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)k;
    }
    int off = snprintf(buf, cap, "eddy-rpc-");
    for (size_t i = 0; i < sizeof r; i++)
        off += snprintf(buf + off, cap - (size_t)off, "%02x", r[i]);
    return 0;
}

void rpc_local_tune(int fd) {
    int sz = LOCAL_SNDBUF;
    /* best effort: the default buffer works, only slower */
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
}
