/* main.c — eddy-broker: parse the command line and the config, run one
 * broker on one event loop until SIGTERM/SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "br_config.h"
#include "log.h"
#include "rpc.h"
#include "server.h"

static void usage(FILE *f) {
    fputs("usage: eddy-broker --config FILE\n"
          "       eddy-broker -c FILE\n"
          "Runs one Eddy broker as described by the JSON config FILE (data_dir, listen,\n"
          "advertised, controller_role, controller, id, durability, map_size_mb,\n"
          "stats_listen, default_partitions, log_level).\n",
          f);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    LOG_INFO("broker", "signal %d: stopping", (int)sig);
    event_base_loopbreak(arg);
}

int main(int argc, char **argv) {
    const char *path = NULL;
    rpc_malloc_tune();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c")) && i + 1 < argc) {
            path = argv[++i];
        } else if (!strncmp(argv[i], "--config=", 9)) {
            path = argv[i] + 9;
        } else {
            fprintf(stderr, "eddy-broker: unexpected argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    br_config cfg;
    char err[512];
    if (br_config_load(path, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "eddy-broker: %s\n", err);
        br_config_free(&cfg);
        return 2;
    }
    eddy_log_set_level(cfg.log_level);
    eddy_log_init_from_env();   /* EDDY_LOG=debug overrides the file for a run */
    eddy_log_set_ident("broker");

    /* the committer's writer thread wakes this loop */
    if (evthread_use_pthreads() < 0) {
        LOG_ERROR("broker", "libevent without pthreads support");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    if (!base) {
        LOG_ERROR("broker", "cannot create the event loop");
        return 1;
    }
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0) {
        LOG_ERROR("broker", "cannot install signal handlers");
        return 1;
    }
    br_server *srv;
    int r = br_server_start(&cfg, base, &srv);
    br_config_free(&cfg);
    if (r < 0) {
        event_free(sigterm);
        event_free(sigint);
        event_base_free(base);
        return 1;
    }
    event_base_dispatch(base);
    br_server_stop(srv);
    event_free(sigterm);
    event_free(sigint);
    event_base_free(base);
    LOG_INFO("broker", "stopped");
    return 0;
}
