// OpenBLAS CBLAS + LAPACKE (Debian: libopenblas-dev, liblapacke-dev).
#pragma once
#include <cblas.h>
#include <lapacke.h>
// Exported by OpenBLAS, declared in openblas_config-dependent headers only on some builds.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_corename(void);

// Flush denormals to zero (FTZ) and treat denormal inputs as zero (DAZ) on the calling thread.
// On Intel cores a denormal operand costs a microcode assist: sgemm on denormal inputs ran at
// 0.5 GFLOP/s instead of 60-115 (Xeon model 207, session 18), and training, whose gradients and
// Adam moments decay into the denormal range, slowed ~8x. MXCSR is per thread, so every thread
// that calls into BLAS sets it (cheap: one read, and one write the first time).
#if defined(__x86_64__)
#include <xmmintrin.h>
static inline void mesh_flush_denormals(void) {
    unsigned int csr = _mm_getcsr();
    if ((csr & 0x8040u) != 0x8040u) _mm_setcsr(csr | 0x8040u);
}
static inline int mesh_flushes_denormals(void) { return (_mm_getcsr() & 0x8040u) == 0x8040u; }
#else
static inline void mesh_flush_denormals(void) {}
static inline int mesh_flushes_denormals(void) { return 1; }
#endif
