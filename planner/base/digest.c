#include "digest.h"

#include "parallel.h"

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

enum { DIGEST_PARTS = 64, DIGEST_PART_MIN = 1 << 20 };

typedef struct parts_job {
    const unsigned char *data;
    size_t n, part;
    uint64_t digest[DIGEST_PARTS];
} parts_job;

static void digest_part(void *ctx, int i, int worker) {
    (void)worker;
    parts_job *j = ctx;
    size_t at = (size_t)i * j->part, len = j->n - at < j->part ? j->n - at : j->part;
    j->digest[i] = digest_words(DIGEST_INIT, j->data + at, len);
}

uint64_t digest_words_parallel(uint64_t h, const void *data, size_t n, int jobs) {
    size_t part = ((n + DIGEST_PARTS - 1) / DIGEST_PARTS + 7) / 8 * 8; /* n/64 in whole words */
    part = part > DIGEST_PART_MIN ? part : DIGEST_PART_MIN;
    if (n <= part)
        return digest_words(h, data, n);
    parts_job j = {.data = data, .n = n, .part = part};
    int parts = (int)((n + part - 1) / part);
    parallel_for(parts, jobs, digest_part, &j);
    return digest_words(h, j.digest, sizeof(uint64_t) * (size_t)parts);
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
