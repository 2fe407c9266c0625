/* fuzz_common.c — helpers shared by both drivers (libFuzzer and replay). */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

_Noreturn void fuzz_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what);
    abort();
}
