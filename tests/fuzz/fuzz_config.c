/* fuzz_config.c — the JSON configuration loaders of both processes.
 *
 * Input: JSON text (any bytes). Every input goes through
 *   - br_config_parse() (broker/br_config.h), then br_config_copy() and
 *     br_config_free() of the result;
 *   - fe_config_load() (frontend/fe_config.h), which reads a path: the input
 *     is written to a memfd and loaded as /proc/self/fd/N, so the loader is
 *     fuzzed exactly as it runs (no buffer-only variant to drift apart).
 * Checks that a successful load leaves the documented invariants (counts in
 * range, strings terminated). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "br_config.h"
#include "fe_config.h"
#include "fuzz.h"

int eddy_fuzz_init(void) {
    eddy_log_set_level(EDDY_LOG_ERROR);
    return 0;
}

static void broker(const uint8_t *data, size_t size) {
    char *json = malloc(size + 1);
    if (!json)
        return;
    memcpy(json, data, size);
    json[size] = '\0';
    br_config c, d;
    br_config_defaults(&c);
    br_config_defaults(&d);
    char err[256];
    err[0] = '\0';
    int r = br_config_parse(json, &c, err, sizeof err);
    FZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    if (r == 0) {
        FZ_CHECK(c.data_dir && c.listen);
        if (br_config_copy(&d, &c) == 0)
            FZ_CHECK(strcmp(d.data_dir, c.data_dir) == 0);
        char host[256];
        int port;
        (void)br_config_split_addr(c.listen, host, sizeof host, &port);
    }
    br_config_free(&c);
    br_config_free(&d);
    free(json);
}

static void frontend(const uint8_t *data, size_t size) {
    int fd = memfd_create("fuzz-fe-config", MFD_CLOEXEC);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return;
        }
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    fe_config *c = malloc(sizeof *c);
    char err[256];
    err[0] = '\0';
    if (c && fe_config_load(path, c, err, sizeof err) == 0) {
        FZ_CHECK(c->n_listeners >= 1 && c->n_listeners <= FE_MAX_LISTENERS);
        FZ_CHECK(c->n_policies >= 0 && c->n_policies <= FE_MAX_POLICIES);
        FZ_CHECK(memchr(c->controller, '\0', sizeof c->controller) != NULL);
        for (int i = 0; i < c->n_listeners; i++)
            FZ_CHECK(memchr(c->listeners[i].listen, '\0', sizeof c->listeners[i].listen));
        for (int i = 0; i < c->n_policies; i++)
            FZ_CHECK(memchr(c->policies[i].key, '\0', sizeof c->policies[i].key));
    }
    FZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    free(c);
    close(fd);
}

int eddy_fuzz_one(const uint8_t *data, size_t size) {
    broker(data, size);
    frontend(data, size);
    return 0;
}
