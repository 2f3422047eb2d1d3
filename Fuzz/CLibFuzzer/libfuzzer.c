// Only the declaration in include/libfuzzer.h: the driver itself comes from libFuzzer.
#include "libfuzzer.h"
