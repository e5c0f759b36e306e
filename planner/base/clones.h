/* CPU_CLONES before a function with a loop worth vectorising: on x86-64 the compiler builds one
 * body per instruction-set level and the loader picks the best the machine has (the project is
 * built for the baseline, so a plain body would use no wider vectors than SSE2). Clones must
 * give the same bits: use it only where every operation is exact or rounded the same way at
 * any vector width. */
#ifndef ACCPAR_CLONES_H
#define ACCPAR_CLONES_H

#if defined(__x86_64__)
#define CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CPU_CLONES
#endif

#endif
