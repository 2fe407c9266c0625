#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* Parse a decimal port: digits only (no sign, no spaces), at most 65535. */
static int parse_port(const char *p, uint16_t *out) {
    unsigned long v = 0;
    size_t n = 0;
    for (; p[n] != '\0'; n++) {
        if (p[n] < '0' || p[n] > '9' || n >= 5)
            return -EINVAL;
        v = v * 10 + (unsigned long)(p[n] - '0');
    }
    if (n == 0 || v > 65535)
        return -EINVAL;
    *out = (uint16_t)v;
    return 0;
}

/* Host bytes we accept: printable ASCII without spaces. Names are checked for
 * real by the resolver; this only keeps control characters out of logs and
 * out of DNS queries. Brackets never belong to the host itself. */
static bool host_char_ok(unsigned char ch) { return ch > 0x20 && ch < 0x7f && ch != '[' && ch != ']'; }

int netaddr_parse(const char *s, netaddr *out) {
    if (!s || !out)
        return -EINVAL;
    const char *host, *host_end, *port;
    if (s[0] == '[') {
        host = s + 1;
        host_end = strchr(host, ']');
        /* "[v6]" must be followed by ":port" and must hold something */
        if (!host_end || host_end == host || host_end[1] != ':')
            return -EINVAL;
        port = host_end + 2;
    } else {
        host = s;
        host_end = strrchr(s, ':');
        if (!host_end)
            return -EINVAL;
        port = host_end + 1;
        /* a second colon means an IPv6 literal without brackets */
        if (memchr(host, ':', (size_t)(host_end - host)))
            return -EINVAL;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen >= sizeof out->host)
        return -EINVAL;
    for (size_t i = 0; i < hlen; i++)
        if (!host_char_ok((unsigned char)host[i]))
            return -EINVAL;
    uint16_t p;
    if (parse_port(port, &p) < 0)
        return -EINVAL;
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    out->port = p;
    return 0;
}

/* getaddrinfo errors as -errno, so callers keep one error convention. */
static int gai_to_errno(int rc) {
    switch (rc) {
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
        return -ENOENT;
    case EAI_AGAIN:
        return -EAGAIN;
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_SYSTEM:
        return errno ? -errno : -EIO;
    default:
        return -EINVAL;
    }
}

static int lookup(const netaddr *a, int flags, struct sockaddr_storage *ss, socklen_t *len) {
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)a->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = flags | AI_NUMERICSERV;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(a->host[0] ? a->host : NULL, service, &hints, &res);
    if (rc != 0)
        return gai_to_errno(rc);
    int r = -ENOENT;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            ai->ai_addrlen <= sizeof *ss) {
            memset(ss, 0, sizeof *ss);
            memcpy(ss, ai->ai_addr, ai->ai_addrlen);
            *len = (socklen_t)ai->ai_addrlen;
            r = 0;
            break;
        }
    }
    freeaddrinfo(res);
    return r;
}

int netaddr_to_sockaddr(const netaddr *a, struct sockaddr_storage *ss, socklen_t *len) {
    if (a->host[0] == '\0') {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        memset(ss, 0, sizeof *ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        *len = sizeof *sin;
        return 0;
    }
    /* AI_NUMERICHOST never touches DNS; it also accepts "fe80::1%eth0". */
    int r = lookup(a, AI_NUMERICHOST, ss, len);
    return r == 0 ? 0 : -ENOENT;
}

int netaddr_resolve(const netaddr *a, bool passive, struct sockaddr_storage *ss, socklen_t *len) {
    if (netaddr_to_sockaddr(a, ss, len) == 0)
        return 0;
    return lookup(a, passive ? AI_PASSIVE : 0, ss, len);
}

int netaddr_format(const struct sockaddr *sa, char *buf, size_t cap) {
    char ip[INET6_ADDRSTRLEN];
    unsigned port;
    int n;
    if (cap > 0)
        buf[0] = '\0';
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        if (!inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip))
            return -EAFNOSUPPORT;
        port = ntohs(sin->sin_port);
        n = snprintf(buf, cap, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        if (!inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip))
            return -EAFNOSUPPORT;
        port = ntohs(sin6->sin6_port);
        n = snprintf(buf, cap, "[%s]:%u", ip, port);
    } else {
        return -EAFNOSUPPORT;
    }
    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}
