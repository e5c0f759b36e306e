/* The page pool (page_pool.h). Pages live in slots of a reserved address range and move with
 * mremap(MREMAP_DONTUNMAP): the page tables move while the data stays where it is in host memory,
 * and the range left behind stays mapped, reading as zeros. Every call runs under one lock. */
#define _GNU_SOURCE /* mremap, MREMAP_DONTUNMAP */
#include "page_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *reserved; /* the mapping of the slots, as mmap returned it */
static size_t reserved_bytes;
static uint8_t *slots;       /* its first PAGE_POOL_PAGE-aligned address */
static size_t *full, n_full; /* slots holding a page, and slots free: two stacks */
static size_t *free_slots, n_free;

static uint8_t *slot(size_t i) {
    return slots + i * (size_t)PAGE_POOL_PAGE;
}

static void give_back(uint8_t *p) {
    madvise(p, PAGE_POOL_PAGE, MADV_DONTNEED);
}

/* Moves the page at from to to (both aligned); 0 on success. */
static int move_page(uint8_t *from, uint8_t *to) {
#if defined(__linux__) && defined(MREMAP_DONTUNMAP)
    void *r = mremap(from, PAGE_POOL_PAGE, PAGE_POOL_PAGE,
                     MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to);
    return r == (void *)to ? 0 : -1;
#else
    (void)from, (void)to;
    return -1;
#endif
}

static void clear(void) {
    if (reserved)
        munmap(reserved, reserved_bytes); /* the held pages with it */
    free(full), free(free_slots);
    reserved = NULL, slots = NULL, full = free_slots = NULL;
    reserved_bytes = 0, n_full = n_free = 0;
}

int page_pool_set_limit(size_t bytes) {
    size_t n = bytes / PAGE_POOL_PAGE;
    int rc = 0;
    pthread_mutex_lock(&lock);
    clear();
    if (n > 0) {
        reserved_bytes = (n + 1) * (size_t)PAGE_POOL_PAGE; /* room to align */
        reserved = mmap(NULL, reserved_bytes, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        full = malloc(n * sizeof *full);
        free_slots = malloc(n * sizeof *free_slots);
        if (reserved == MAP_FAILED || !full || !free_slots) {
            if (reserved == MAP_FAILED)
                reserved = NULL;
            clear();
            rc = -1;
        } else {
            uintptr_t at =
                ((uintptr_t)reserved + PAGE_POOL_PAGE - 1) / PAGE_POOL_PAGE * PAGE_POOL_PAGE;
            slots = (uint8_t *)at;
            for (size_t i = 0; i < n; i++)
                free_slots[i] = n - 1 - i;
            n_free = n;
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void page_pool_put(uint8_t *p) {
    pthread_mutex_lock(&lock);
    if (n_free > 0 && move_page(p, slot(free_slots[n_free - 1])) == 0)
        full[n_full++] = free_slots[--n_free];
    else
        give_back(p);
    pthread_mutex_unlock(&lock);
}

int page_pool_take(uint8_t *p) {
    int moved = 0;
    pthread_mutex_lock(&lock);
    if (n_full > 0 && move_page(slot(full[n_full - 1]), p) == 0) {
        free_slots[n_free++] = full[--n_full];
        moved = 1;
    }
    pthread_mutex_unlock(&lock);
    return moved;
}

size_t page_pool_held(void) {
    pthread_mutex_lock(&lock);
    size_t held = n_full * (size_t)PAGE_POOL_PAGE;
    pthread_mutex_unlock(&lock);
    return held;
}
