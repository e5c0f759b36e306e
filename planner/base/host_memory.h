/* How much memory this process may use, for the size checks made before large allocations. */
#ifndef ACCPAR_HOST_MEMORY_H
#define ACCPAR_HOST_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The machine's physical memory, or the process's address-space limit (RLIMIT_AS) if lower. */
uint64_t host_memory_bytes(void);

/* 0 if `need` bytes fit host_memory_bytes(), else -1 with "needs X GiB of host memory, this
 * machine allows Y GiB" (prefixed by `what`) in err. */
int host_memory_check(const char *what, uint64_t need, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
