#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static _Atomic int min_level = EDDY_LOG_INFO;
static char ident[32] = "eddy";

void eddy_log_set_level(enum eddy_log_level lvl) { min_level = lvl; }

void eddy_log_init_from_env(void) {
    const char *e = getenv("EDDY_LOG");
    if (!e)
        return;
    if (!strcasecmp(e, "debug"))
        min_level = EDDY_LOG_DEBUG;
    else if (!strcasecmp(e, "warn"))
        min_level = EDDY_LOG_WARN;
    else if (!strcasecmp(e, "error"))
        min_level = EDDY_LOG_ERROR;
}

void eddy_log_set_ident(const char *id) { snprintf(ident, sizeof ident, "%s", id); }

static void vlog(enum eddy_log_level lvl, const char *module, int err, const char *fmt, va_list ap) {
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    /* one fprintf per line: stdio locks the stream, so lines do not interleave */
    if (err)
        fprintf(stderr, "%s.%03ldZ %s %-5s %s: %s: %s\n", when, ts.tv_nsec / 1000000, ident,
                names[lvl], module, msg, strerror(-err));
    else
        fprintf(stderr, "%s.%03ldZ %s %-5s %s: %s\n", when, ts.tv_nsec / 1000000, ident,
                names[lvl], module, msg);
}

void eddy_log(enum eddy_log_level lvl, const char *module, const char *fmt, ...) {
    if ((int)lvl < min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, module, 0, fmt, ap);
    va_end(ap);
}

int eddy_log_err(int err, const char *module, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(EDDY_LOG_ERROR, module, err, fmt, ap);
    va_end(ap);
    return err;
}
