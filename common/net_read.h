/* net_read.h — large reads on the sockets of plain socket bufferevents.
 *
 * libevent 2.1 reads at most 4 KiB per wakeup (EVBUFFER_MAX_READ). A
 * connection that receives megabyte frames then pays, per 4 KiB, an
 * epoll_wait, an ioctl(FIONREAD), a readv and a trip through its read
 * callback (with TLS, through OpenSSL too), and its input ends up in
 * thousands of small chains. net_read_fill, called from the read callback,
 * reads on past libevent in 64 KiB steps up to a budget. (SO_RCVLOWAT, to
 * be woken only once a frame's rest is queued, was measured on top of this
 * and saved a third of the epoll_waits but no throughput: left out.) */
#ifndef EDDY_NET_READ_H
#define EDDY_NET_READ_H

#include <stddef.h>

struct evbuffer;

/** Below this many bytes still missing from a frame, libevent's own 4 KiB
 *  reads are good enough (and a read of ours that found nothing would cost
 *  a syscall): callers fill only frames missing at least this much. */
#define NET_READ_FILL_MIN (16u << 10)

/** Read up to @p max bytes from the socket @p fd into @p in, stopping early
 *  when the socket is drained. @p in must be the input of a plain socket
 *  bufferevent and the call made from its read callback (libevent keeps that
 *  input's end frozen outside its own reads; this lifts and restores it).
 *  Returns the bytes read, 0 when nothing was there (EAGAIN), or -errno:
 *  -ECONNRESET for end of stream, the read's error otherwise. */
int net_read_fill(struct evbuffer *in, int fd, size_t max);

#endif
