// libFuzzer's driver, linked by -sanitize=fuzzer: a target with a main of its own (SwiftPM's executables always have
// one) hands it argc, argv and the function that runs one input.
#ifndef SETPOINT_LIBFUZZER_H
#define SETPOINT_LIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
