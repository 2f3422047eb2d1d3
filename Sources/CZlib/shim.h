#include <zlib.h>

/* deflateInit2 is a macro; Swift needs a function. windowBits 15 + 16 writes a gzip header and trailer. */
static inline int setpoint_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
