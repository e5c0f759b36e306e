#include "host_memory.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

uint64_t host_memory_bytes(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : UINT64_MAX;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)rl.rlim_cur < phys)
        return (uint64_t)rl.rlim_cur;
    return phys;
}

int host_memory_check(const char *what, uint64_t need, char *err, size_t errlen) {
    uint64_t have = host_memory_bytes();
    if (need <= have)
        return 0;
    snprintf(err, errlen, "%s needs %.1f GiB of host memory, this machine allows %.1f GiB", what,
             (double)need / (1u << 30), (double)have / (1u << 30));
    return -1;
}
