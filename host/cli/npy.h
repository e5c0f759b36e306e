/* NumPy .npy files (gemm --dump). */
#ifndef ACCPAR_NPY_H
#define ACCPAR_NPY_H

#include <stddef.h>
#include <stdint.h>

/* A float32 .npy file of a rows x cols row-major matrix, written into the
 * declared output path (output_set.h). Returns 0, or -1
 * with "path: why" in err. */
int npy_write_f32(const char *path, const float *data, int64_t rows, int64_t cols, char *err,
                  size_t errlen);

#endif
