/* eddy-frontend: the Kafka endpoint. Loads the config, starts the worker
 * threads, binds the listeners on the main thread and hands accepted sockets
 * to the workers. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include "fe_config.h"
#include "log.h"
#include "rpc.h"
#include "netaddr.h"
#include "stats_http.h"
#include "tls.h"
#include "worker.h"

typedef struct listener_ctx {
    fe_workers *workers;
    const fe_listener_conf *conf;
} listener_ctx;

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg) {
    (void)l;
    (void)salen;
    listener_ctx *lc = arg;
    char peer[64] = "?";
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(peer, sizeof peer, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(peer, sizeof peer, "[%s]:%u", host, ntohs(in6->sin6_port));
    }
    fe_ipkey ip;
    fe_ipkey_from_sockaddr(&ip, sa);
    fe_workers_hand(lc->workers, fd, lc->conf, peer, &ip);
}

static void on_accept_error(struct evconnlistener *l, void *arg) {
    (void)arg;
    int err = EVUTIL_SOCKET_ERROR();
    /* EMFILE and friends: keep running, the listener retries on the next event */
    LOG_WARN("listener", "accept failed: %s", evutil_socket_error_to_string(err));
    (void)l;
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)what;
    LOG_INFO("main", "signal %d: shutting down", (int)sig);
    event_base_loopbreak(arg);
}

/* SIGHUP: reload the TLS certificate and key for new connections. */
static void on_sighup(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    fe_tls *tls = arg;
    char msg[1536];
    if (!tls) {
        LOG_INFO("main", "SIGHUP: no TLS listener, nothing to reload");
        return;
    }
    int r = fe_tls_reload(tls, msg, sizeof msg);
    if (r < 0)
        LOG_ERROR("tls", "SIGHUP: keeping the current certificate: %s", msg);
    else
        LOG_INFO("tls", "SIGHUP: new connections use the reloaded certificate (%s)", msg);
}

static void usage(FILE *f) {
    fputs("usage: eddy-frontend --config FILE\n"
          "  Serves the Kafka protocol on the configured listeners and forwards\n"
          "  requests to the brokers named by the controller.\n",
          f);
}

int main(int argc, char **argv) {
    const char *config_path = NULL;
    rpc_malloc_tune();
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0}};
    int o;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (o == 'c')
            config_path = optarg;
        else if (o == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!config_path) {
        usage(stderr);
        return 2;
    }
    eddy_log_set_ident("frontend");
    eddy_log_init_from_env();
    static fe_config conf;
    char err[512];
    if (fe_config_load(config_path, &conf, err, sizeof err) < 0) {
        fprintf(stderr, "eddy-frontend: %s\n", err);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();

    fe_tls *tls = NULL;
    for (int i = 0; i < conf.n_listeners; i++) {
        if (conf.listeners[i].tls && !tls && fe_tls_new(&conf, &tls, err, sizeof err) < 0) {
            fprintf(stderr, "eddy-frontend: %s\n", err);
            return 1;
        }
    }

    fe_workers *workers = fe_workers_start(&conf, tls, conf.workers);
    if (!workers)
        return 1;

    struct event_base *base = event_base_new();
    if (!base)
        return 1;
    listener_ctx lctx[FE_MAX_LISTENERS];
    struct evconnlistener *listeners[FE_MAX_LISTENERS] = {0};
    for (int i = 0; i < conf.n_listeners; i++) {
        struct sockaddr_storage ss;
        socklen_t sl;
        netaddr na;
        int r = netaddr_parse(conf.listeners[i].listen, &na);
        if (r == 0)
            r = netaddr_resolve(&na, true, &ss, &sl);
        if (r < 0) {
            fprintf(stderr, "eddy-frontend: cannot resolve %s: %s\n", conf.listeners[i].listen,
                    strerror(-r));
            return 1;
        }
        lctx[i].workers = workers;
        lctx[i].conf = &conf.listeners[i];
        listeners[i] = evconnlistener_new_bind(
            base, on_accept, &lctx[i], LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 1024,
            (struct sockaddr *)&ss, (int)sl);
        if (!listeners[i]) {
            fprintf(stderr, "eddy-frontend: cannot listen on %s: %s\n", conf.listeners[i].listen,
                    strerror(errno));
            return 1;
        }
        evconnlistener_set_error_cb(listeners[i], on_accept_error);
        LOG_INFO("main", "listening on %s (%s%s), advertised as %s:%d", conf.listeners[i].listen,
                 conf.listeners[i].tls ? "TLS" : "plaintext",
                 conf.listeners[i].sasl ? ", SASL" : "", conf.listeners[i].adv_host,
                 conf.listeners[i].adv_port);
    }
    fe_stats_http *stats = NULL;
    if (conf.stats_listen[0]) {
        stats = fe_stats_http_start(base, &conf, workers);
        if (!stats)
            return 1;
    }
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    struct event *sighup = evsignal_new(base, SIGHUP, on_sighup, tls);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    event_add(sighup, NULL);

    event_base_dispatch(base);

    for (int i = 0; i < conf.n_listeners; i++)
        evconnlistener_free(listeners[i]);
    fe_stats_http_stop(stats);
    fe_workers_stop(workers);
    event_free(sigterm);
    event_free(sigint);
    event_free(sighup);
    event_base_free(base);
    fe_tls_free(&tls);
    LOG_INFO("main", "stopped");
    return 0;
}
