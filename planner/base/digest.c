#include "digest.h"

#include <stdio.h>
#include <string.h>

uint64_t digest_bytes(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

uint64_t digest_words(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    size_t i = 0;
    for (; n - i >= sizeof(uint64_t); i += sizeof(uint64_t)) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return digest_bytes(h, p + i, n - i);
}

uint64_t digest_str(uint64_t h, const char *s) {
    return digest_bytes(h, s, strlen(s) + 1);
}

uint64_t digest_int(uint64_t h, int64_t x) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)x);
    return digest_str(h, buf);
}

uint64_t digest_real(uint64_t h, double x) {
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", x);
    return digest_str(h, buf);
}

void digest_hex(uint64_t h, char out[DIGEST_HEX]) {
    snprintf(out, DIGEST_HEX, "%016llx", (unsigned long long)h);
}
