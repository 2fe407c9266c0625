/* unit.h — the smallest test harness: CHECK macros that count failures and
 * print where they happened, and a main helper. A test binary exits non-zero
 * when any check failed, which is what meson test reads. */
#ifndef EDDY_UNIT_H
#define EDDY_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpdir.h"

static int unit_failures;
static int unit_checks;
/* set while a test deliberately reads garbage and checks only the outcome */
static int unit_quiet;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        unit_checks++;                                                               \
        if (!(cond)) {                                                               \
            unit_failures++;                                                         \
            if (!unit_quiet)                                                         \
                fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                              \
    do {                                                                                \
        long long _a = (long long)(a), _b = (long long)(b);                             \
        unit_checks++;                                                                  \
        if (_a != _b) {                                                                 \
            unit_failures++;                                                            \
            if (!unit_quiet)                                                            \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,        \
                    __LINE__, #a, _a, #b, _b);                                          \
        }                                                                               \
    } while (0)

#define CHECK_MEM(a, b, n)                                                              \
    do {                                                                                \
        unit_checks++;                                                                  \
        if (memcmp((a), (b), (n)) != 0) {                                               \
            unit_failures++;                                                            \
            fprintf(stderr, "%s:%d: memory differs: %s vs %s\n", __FILE__, __LINE__, #a, \
                    #b);                                                                \
        }                                                                               \
    } while (0)

#define RUN(fn)                                  \
    do {                                         \
        int _before = unit_failures;             \
        fn();                                    \
        fprintf(stderr, "%s %s\n",               \
                unit_failures == _before ? "ok  " : "FAIL", #fn); \
    } while (0)

static inline int unit_done(void) {
    fprintf(stderr, "%d checks, %d failed\n", unit_checks, unit_failures);
    return unit_failures ? 1 : 0;
}

#endif
