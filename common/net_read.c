/* net_read.c — large socket reads past libevent's 4 KiB (see net_read.h). */
#include "net_read.h"

#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>

#include <event2/buffer.h>

/* One read at most: chains of this size stay below glibc's default mmap
 * threshold once the chain header is added (power-of-two allocation). */
#define FILL_CHUNK ((64u << 10) - 256)

int net_read_fill(struct evbuffer *in, int fd, size_t max) {
    if (max > INT32_MAX)
        max = INT32_MAX;
    size_t got = 0;
    int r = 0;
    evbuffer_unfreeze(in, 0);
    while (got < max) {
        size_t want = max - got < FILL_CHUNK ? max - got : FILL_CHUNK;
        struct evbuffer_iovec v[2];
        int nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
        if (nv <= 0) {
            r = -ENOMEM;
            break;
        }
        /* reserve_space may offer more than asked: read only up to max, so
         * that a caller reading one frame stops at its end */
        struct iovec iov[2];
        size_t left = want;
        int n = 0;
        for (int i = 0; i < nv && left; i++, n++) {
            iov[i].iov_base = v[i].iov_base;
            iov[i].iov_len = v[i].iov_len < left ? v[i].iov_len : left;
            left -= iov[i].iov_len;
        }
        ssize_t k = readv(fd, iov, n);
        if (k <= 0) {
            evbuffer_commit_space(in, v, 0);
            if (k == 0)
                r = -ECONNRESET;
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                r = -errno;
            break;
        }
        /* hand back exactly what was read, vector by vector */
        size_t rest = (size_t)k;
        int used = 0;
        for (; used < nv && rest; used++) {
            size_t use = v[used].iov_len < rest ? v[used].iov_len : rest;
            v[used].iov_len = use;
            rest -= use;
        }
        if (evbuffer_commit_space(in, v, used) < 0) {
            r = -ENOMEM;
            break;
        }
        got += (size_t)k;
        if ((size_t)k < want)
            break; /* the socket is drained for now */
    }
    evbuffer_freeze(in, 0);
    return r < 0 ? r : (int)got;
}
