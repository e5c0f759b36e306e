/* Host pages that freed device memory gives back, moved (not copied, not zeroed) into the next
 * device allocation that needs pages, on any device. Without it every large device allocation
 * is fresh memory that the kernel zeroes (a VGG-16 step at 224x224 on eight full-size devices:
 * 35 GB of pages zeroed, 8 GB with it, docs/runtime.md). The pool holds at most its limit (0,
 * the default, turns it off); pages beyond it go back to the kernel. Thread-safe. */
#ifndef ACCPAR_PAGE_POOL_H
#define ACCPAR_PAGE_POOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The unit the pool moves: a 2 MiB page (a huge page where the kernel gives them). */
enum { PAGE_POOL_PAGE = 2 << 20 };

/* Gives every page the pool holds back to the kernel and sets how many bytes it may hold from
 * now on (rounded down to whole pages). Returns 0, or -1 if the pool's address range cannot be
 * reserved (the pool is then off). */
int page_pool_set_limit(size_t bytes);

/* The page at p (PAGE_POOL_PAGE-aligned, inside an anonymous private mapping) goes to the pool,
 * or back to the kernel if the pool is full; either way p reads as zeros afterwards. */
void page_pool_put(uint8_t *p);

/* Moves a pooled page to p (aligned as above, its page not populated); returns 1, or 0 if the
 * pool is empty (p is left as it was and faults in as zeros). */
int page_pool_take(uint8_t *p);

/* The bytes the pool holds now. */
size_t page_pool_held(void);

#ifdef __cplusplus
}
#endif

#endif
