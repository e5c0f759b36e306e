// The page pool (host/device/page_pool.h): freed device pages move to the next allocation with
// their data (not zeroed by the kernel), the range they leave reads as zeros, the pool holds at
// most its limit, and device memory freed on one device fills an allocation on another.
#include "page_pool.h"
#include "test_util.h"

#include <sys/mman.h>

#include <cstring>

namespace {

const size_t P = PAGE_POOL_PAGE;

// n aligned pages of fresh anonymous memory.
struct Pages {
    explicit Pages(size_t n) : n(n) {
        raw =
            mmap(nullptr, (n + 1) * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        at = (uint8_t *)(((uintptr_t)raw + P - 1) / P * P);
    }
    ~Pages() {
        munmap(raw, (n + 1) * P);
    }
    uint8_t *page(size_t i) const {
        return at + i * P;
    }
    size_t n;
    void *raw;
    uint8_t *at;
};

bool all_bytes(const uint8_t *p, uint8_t v) {
    for (size_t i = 0; i < P; i += 4096 / 4)
        if (p[i] != v || p[i + 1] != v)
            return false;
    return p[P - 1] == v;
}

TEST(PagePool, PagesMoveWithTheirDataUpToTheLimit) {
    ASSERT_EQ(page_pool_set_limit(2 * P + P / 2), 0); // two whole pages
    Pages from(3), to(3);
    for (size_t i = 0; i < 3; i++)
        memset(from.page(i), 0x11 * (int)(i + 1), P);
    for (size_t i = 0; i < 3; i++)
        page_pool_put(from.page(i)); // the third finds the pool full: back to the kernel
    EXPECT_EQ(page_pool_held(), 2 * P);
    for (size_t i = 0; i < 3; i++)
        EXPECT_TRUE(all_bytes(from.page(i), 0)) << "a page given away reads as zeros";
    uint8_t seen = 0;
    for (size_t i = 0; i < 2; i++) {
        ASSERT_EQ(page_pool_take(to.page(i)), 1);
        uint8_t v = to.page(i)[0];
        EXPECT_TRUE(v == 0x11 || v == 0x22) << (int)v;
        EXPECT_TRUE(all_bytes(to.page(i), v)) << "the whole page moved";
        seen |= v;
    }
    EXPECT_EQ(seen, 0x11 | 0x22);
    EXPECT_EQ(page_pool_take(to.page(2)), 0) << "empty";
    EXPECT_TRUE(all_bytes(to.page(2), 0));
    EXPECT_EQ(page_pool_held(), 0u);
    page_pool_put(to.page(0));
    EXPECT_EQ(page_pool_held(), P);
    ASSERT_EQ(page_pool_set_limit(0), 0);
    EXPECT_EQ(page_pool_held(), 0u) << "the limit 0 gives every page back";
    page_pool_put(to.page(1));
    EXPECT_EQ(page_pool_held(), 0u);
    EXPECT_EQ(page_pool_take(to.page(1)), 0);
    EXPECT_TRUE(all_bytes(to.page(1), 0));
}

TEST(PagePool, FreedDeviceMemoryFillsTheNextAllocationOnAnyDevice) {
    accel_preset p = load_preset("tpu-v2");
    accel_dev *d1 = nullptr, *d2 = nullptr;
    char err[256];
    ASSERT_EQ(accel_open(&p, ACCEL_BACKEND_GOLDEN, &d1, err, sizeof err), ACCEL_OK) << err;
    ASSERT_EQ(accel_open(&p, ACCEL_BACKEND_GOLDEN, &d2, err, sizeof err), ACCEL_OK) << err;
    const uint64_t bytes = 16 * P;
    uint64_t a, b, c;
    // without a pool a freed range's whole pages go back to the kernel: they read as zeros
    ASSERT_EQ(page_pool_set_limit(0), 0);
    ASSERT_EQ(accel_alloc(d1, bytes, &a), ACCEL_OK);
    memset(accel_map(d1, a, bytes), 0x5A, bytes);
    ASSERT_EQ(accel_free(d1, a), ACCEL_OK);
    ASSERT_EQ(accel_alloc(d1, bytes, &c), ACCEL_OK); // first fit: where the freed block was
    ASSERT_EQ(c, a);
    const uint8_t *q = (const uint8_t *)accel_map(d1, c, bytes);
    EXPECT_TRUE(all_bytes((const uint8_t *)(((uintptr_t)q + P - 1) / P * P), 0));
    // with one, they move to the next allocation, on either device, again and again
    ASSERT_EQ(page_pool_set_limit(64 * P), 0);
    memset(accel_map(d1, c, bytes), 0x5A, bytes);
    ASSERT_EQ(accel_free(d1, c), ACCEL_OK);
    size_t held = page_pool_held();
    EXPECT_GE(held, bytes - 2 * P) << "the block's whole pages (an unaligned start loses one)";
    EXPECT_LE(held, bytes);
    ASSERT_EQ(accel_alloc(d2, bytes, &b), ACCEL_OK);
    EXPECT_EQ(page_pool_held(), 0u) << "the other device's allocation took them";
    ASSERT_EQ(accel_free(d2, b), ACCEL_OK);
    EXPECT_EQ(page_pool_held(), held);
    ASSERT_EQ(accel_alloc(d1, bytes, &c), ACCEL_OK);
    EXPECT_EQ(page_pool_held(), 0u) << "the first device's freed range took them back";
    ASSERT_EQ(accel_free(d1, c), ACCEL_OK);
    ASSERT_EQ(page_pool_set_limit(0), 0);
    accel_close(d1);
    accel_close(d2);
}

} // namespace
