// The digests (planner/base/digest.c) against FNV-1a written out from its definition, and the
// property the run's result digests rely on: any one changed bit changes the digest.
#include <gtest/gtest.h>

extern "C" {
#include "digest.h"
}

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

const uint64_t kPrime = 0x100000001b3ull;

// FNV-1a on bytes and on 8-byte words, from the definition.
uint64_t fnv_bytes(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * kPrime;
    return h;
}

uint64_t fnv_words(const unsigned char *p, size_t n) {
    uint64_t h = DIGEST_INIT;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = 0;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * kPrime;
    }
    return fnv_bytes(h, p + i, n - i);
}

TEST(Digest, BytesAndWordsAreFnv1a) {
    std::vector<unsigned char> data(77);
    for (size_t i = 0; i < data.size(); i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t n : {0, 1, 7, 8, 9, 16, 77}) {
        EXPECT_EQ(digest_bytes(DIGEST_INIT, data.data(), n),
                  fnv_bytes(DIGEST_INIT, data.data(), n));
        EXPECT_EQ(digest_words(DIGEST_INIT, data.data(), n), fnv_words(data.data(), n)) << n;
    }
    EXPECT_EQ(digest_bytes(DIGEST_INIT, "a", 1), 0xaf63dc4c8601ec8cull); // FNV-1a's own test value
}

TEST(Digest, AnyOneChangedBitChangesTheWordDigest) {
    std::vector<unsigned char> data(45, 0);
    const uint64_t base = digest_words(DIGEST_INIT, data.data(), data.size());
    for (size_t byte = 0; byte < data.size(); byte++)
        for (int bit = 0; bit < 8; bit++) {
            data[byte] ^= (unsigned char)(1u << bit);
            EXPECT_NE(digest_words(DIGEST_INIT, data.data(), data.size()), base)
                << "byte " << byte << " bit " << bit;
            data[byte] ^= (unsigned char)(1u << bit);
        }
}

// The parallel digest from its definition: parts of max(1 MiB, n/64 rounded up to whole words)
// bytes (at most 64 parts), each digested from DIGEST_INIT, then the parts' digests digested from
// h; the same for 1, 2 and 3 threads; one part (n up to 1 MiB) is the plain word digest; the cut
// into parts loses no changed bit.
TEST(Digest, ParallelWordDigestIsItsPartsDigestForAnyThreadCount) {
    const size_t MiB = 1 << 20;
    for (size_t n : {size_t(0), size_t(13), MiB, 3 * MiB + 13, 64 * MiB + 8 * 64 + 5}) {
        std::vector<unsigned char> data(n);
        for (size_t i = 0; i < n; i++)
            data[i] = (unsigned char)(i * 2654435761u >> 13);
        size_t part = std::max(MiB, ((n + 63) / 64 + 7) / 8 * 8);
        std::vector<unsigned char> digests;
        for (size_t at = 0; at < n; at += part) {
            uint64_t d = fnv_words(data.data() + at, std::min(part, n - at));
            digests.insert(digests.end(), (unsigned char *)&d, (unsigned char *)&d + 8);
        }
        const uint64_t h = 12345;
        uint64_t want = n <= part ? digest_words(h, data.data(), n)
                                  : digest_words(h, digests.data(), digests.size());
        EXPECT_LE(digests.size(), 64u * 8) << n;
        for (int jobs : {1, 2, 3})
            EXPECT_EQ(digest_words_parallel(h, data.data(), n, jobs), want) << n << " " << jobs;
        if (n == 3 * MiB + 13)
            for (size_t at : {size_t(0), part - 1, part, n - 1}) {
                data[at] ^= 0x10;
                EXPECT_NE(digest_words_parallel(h, data.data(), n, 2), want) << at;
                data[at] ^= 0x10;
            }
    }
}

} // namespace
