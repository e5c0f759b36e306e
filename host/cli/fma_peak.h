/* The machine's fp32 fused multiply-add peak, measured: the yardstick `bench-run` divides the
 * emulation's arithmetic by (docs/runtime.md, "Measured"). */
#ifndef ACCPAR_FMA_PEAK_H
#define ACCPAR_FMA_PEAK_H

/* fp32 flops per second (an FMA counts 2) of `threads` threads each running independent FMA
 * chains in the widest vector unit the CPU has for about `seconds`; *isa names that unit
 * ("avx512", "avx2" or "scalar"). */
double fma_peak_flops(int threads, double seconds, const char **isa);

#endif
