/* fuzz.h — the one interface every Eddy fuzz target implements.
 *
 * A target is one .c file in tests/fuzz/ defining eddy_fuzz_one(). It is
 * linked two ways (tests/fuzz/meson.build):
 *   - with libFuzzer (clang, -Dfuzzing=libfuzzer): fuzz_libfuzzer.c maps
 *     LLVMFuzzerTestOneInput onto eddy_fuzz_one;
 *   - always, with any compiler: fuzz_main.c, a standalone program that runs
 *     every file of a corpus directory (or the files named on the command
 *     line) through eddy_fuzz_one, each one in a buffer that ends right at a
 *     guard page, so that a read one byte past the input faults even without
 *     ASan. `meson test --suite fuzz` replays corpus/<target>/ this way.
 *
 * Rules for targets (as Tor's src/test/fuzz/fuzzing.h):
 *   - never read past data + size; never write into data (it is read-only in
 *     the replay program);
 *   - free everything before returning (leaks are reported by LeakSanitizer);
 *   - abort() only for a property that must hold (e.g. a decode/encode round
 *     trip is a fixed point): that is a finding, like a crash;
 *   - no global state that changes the outcome of a later input;
 *   - no logging on the normal path (libFuzzer runs millions of inputs).
 *
 * eddy_fuzz_init() runs once before the first input (may be a no-op). */
#ifndef EDDY_FUZZ_H
#define EDDY_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/** Prepare process-wide state used by every input (silence logs, build a
 *  fixed config). Returns 0, or non-zero to abort the run. */
int eddy_fuzz_init(void);

/** Run one input. Always returns 0 (libFuzzer's convention); a bug shows as a
 *  crash, a sanitizer report or abort(). */
int eddy_fuzz_one(const uint8_t *data, size_t size);

/** Abort with a message naming the broken property (a finding). */
#define FZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond))                                                              \
            fuzz_fail(__FILE__, __LINE__, #cond);                                 \
    } while (0)

_Noreturn void fuzz_fail(const char *file, int line, const char *what);

#endif
