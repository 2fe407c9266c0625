/* fuzz_libfuzzer.c — libFuzzer entry points for any eddy_fuzz_one target. */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return eddy_fuzz_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return eddy_fuzz_one(data, size);
}
