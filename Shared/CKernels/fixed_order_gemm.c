// Fixed-order GEMM: see include/CKernels.h. Two kernels with identical arithmetic: AVX2+FMA
// (6 rows x 16 columns of accumulators, chosen at run time) and a portable fmaf loop.
#include "CKernels.h"
#include <math.h>
#include <string.h>

#define NR 16
#define MR 6
#define MC 96   // rows per cache block (A block of MC x K stays in L2 while panels stream)

size_t lm_fo_packed_count(int n, int k) {
    return (size_t)((n + NR - 1) / NR) * NR * (size_t)k;
}

void lm_fo_pack(int n, int k, const float *b, int ldb, int trans_b, float *packed) {
    int panels = (n + NR - 1) / NR;
    for (int p = 0; p < panels; p++) {
        float *dst = packed + (size_t)p * NR * k;
        int j0 = p * NR, nr = n - j0 < NR ? n - j0 : NR;
        if (trans_b) {
            // B row j0 + j is contiguous over k: read it in order, write column j of the panel.
            for (int j = 0; j < nr; j++) {
                const float *src = b + (size_t)(j0 + j) * ldb;
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * NR + j] = src[kk];
            }
            for (int j = nr; j < NR; j++)
                for (int kk = 0; kk < k; kk++) dst[(size_t)kk * NR + j] = 0;
        } else {
            for (int kk = 0; kk < k; kk++) {
                float *row = dst + (size_t)kk * NR;
                const float *src = b + (size_t)kk * ldb + j0;
                for (int j = 0; j < nr; j++) row[j] = src[j];
                for (int j = nr; j < NR; j++) row[j] = 0;
            }
        }
    }
}

/// Writes one row block's accumulators (`acc` is [rows][16]) into C: nr valid columns.
static inline void store_block(const float *acc, int rows, int nr, float *c, int ldc, int accumulate) {
    for (int r = 0; r < rows; r++) {
        float *cr = c + (size_t)r * ldc;
        const float *ar = acc + r * NR;
        if (accumulate) { for (int j = 0; j < nr; j++) cr[j] = cr[j] + ar[j]; }
        else { memcpy(cr, ar, sizeof(float) * (size_t)nr); }
    }
}

/// Portable kernel: rows x 16 columns of one panel, each element one fmaf chain over k.
static void block_portable(int rows, int k, const float *a, int lda, const float *panel,
                           float *c, int ldc, int nr, int accumulate) {
    float acc[MR * NR];
    for (int r = 0; r < rows; r++) {
        float *ar = acc + r * NR;
        for (int j = 0; j < NR; j++) ar[j] = 0;
        const float *arow = a + (size_t)r * lda;
        for (int kk = 0; kk < k; kk++) {
            float av = arow[kk];
            const float *bp = panel + (size_t)kk * NR;
            for (int j = 0; j < NR; j++) ar[j] = fmaf(av, bp[j], ar[j]);
        }
    }
    store_block(acc, rows, nr, c, ldc, accumulate);
}

#if defined(__x86_64__)
#include <immintrin.h>

/// Writes one row's accumulators (columns 0-7 in lo, 8-15 in hi) to C: nr valid columns; with
/// `accumulate`, C = c + chain (one rounding). Straight from the registers for a full panel.
__attribute__((target("avx2,fma"), always_inline))
static inline void store_row_avx2(__m256 lo, __m256 hi, float *c, int nr, int accumulate) {
    if (nr == NR) {
        if (accumulate) { lo = _mm256_add_ps(_mm256_loadu_ps(c), lo); hi = _mm256_add_ps(_mm256_loadu_ps(c + 8), hi); }
        _mm256_storeu_ps(c, lo); _mm256_storeu_ps(c + 8, hi);
        return;
    }
    float t[NR] __attribute__((aligned(32)));
    _mm256_store_ps(t, lo); _mm256_store_ps(t + 8, hi);
    if (accumulate) { for (int j = 0; j < nr; j++) c[j] = c[j] + t[j]; }
    else { memcpy(c, t, sizeof(float) * (size_t)nr); }
}

/// R (1-5) rows x 16 columns in 2R accumulators, all rows in one pass over k (the rows' chains
/// interleave, which hides the FMA latency that one row's two chains cannot). R is a constant at
/// every call site, so the loops over rows unroll and the accumulators stay in registers.
__attribute__((target("avx2,fma"), always_inline))
static inline void block_rows_avx2(const int R, int k, const float *a, int lda, const float *panel,
                                   float *c, int ldc, int nr, int accumulate) {
    __m256 lo[MR - 1], hi[MR - 1];
    for (int r = 0; r < R; r++) { lo[r] = _mm256_setzero_ps(); hi[r] = _mm256_setzero_ps(); }
    for (int kk = 0; kk < k; kk++) {
        const float *bp = panel + (size_t)kk * NR;
        __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
        for (int r = 0; r < R; r++) {
            __m256 av = _mm256_broadcast_ss(a + (size_t)r * lda + kk);
            lo[r] = _mm256_fmadd_ps(av, b0, lo[r]); hi[r] = _mm256_fmadd_ps(av, b1, hi[r]);
        }
    }
    for (int r = 0; r < R; r++) store_row_avx2(lo[r], hi[r], c + (size_t)r * ldc, nr, accumulate);
}

/// AVX2 kernel: 6 rows x 16 columns in 12 accumulators; fewer rows use the same per-element chain.
__attribute__((target("avx2,fma")))
static void block_avx2(int rows, int k, const float *a, int lda, const float *panel,
                       float *c, int ldc, int nr, int accumulate) {
    if (rows == MR) {
        __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
        __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
        __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
        const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * (size_t)lda, *a3 = a + 3 * (size_t)lda;
        const float *a4 = a + 4 * (size_t)lda, *a5 = a + 5 * (size_t)lda;
        for (int kk = 0; kk < k; kk++) {
            const float *bp = panel + (size_t)kk * NR;
            __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8), av;
            av = _mm256_broadcast_ss(a0 + kk); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
            av = _mm256_broadcast_ss(a1 + kk); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
            av = _mm256_broadcast_ss(a2 + kk); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
            av = _mm256_broadcast_ss(a3 + kk); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
            av = _mm256_broadcast_ss(a4 + kk); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
            av = _mm256_broadcast_ss(a5 + kk); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
        }
        store_row_avx2(c00, c01, c, nr, accumulate);
        store_row_avx2(c10, c11, c + (size_t)ldc, nr, accumulate);
        store_row_avx2(c20, c21, c + 2 * (size_t)ldc, nr, accumulate);
        store_row_avx2(c30, c31, c + 3 * (size_t)ldc, nr, accumulate);
        store_row_avx2(c40, c41, c + 4 * (size_t)ldc, nr, accumulate);
        store_row_avx2(c50, c51, c + 5 * (size_t)ldc, nr, accumulate);
        return;
    }
    switch (rows) {
    case 5: block_rows_avx2(5, k, a, lda, panel, c, ldc, nr, accumulate); break;
    case 4: block_rows_avx2(4, k, a, lda, panel, c, ldc, nr, accumulate); break;
    case 3: block_rows_avx2(3, k, a, lda, panel, c, ldc, nr, accumulate); break;
    case 2: block_rows_avx2(2, k, a, lda, panel, c, ldc, nr, accumulate); break;
    default: block_rows_avx2(1, k, a, lda, panel, c, ldc, nr, accumulate); break;
    }
}

static int detect_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

typedef void (*block_fn)(int, int, const float *, int, const float *, float *, int, int, int);

static block_fn choose(void) {
#if defined(__x86_64__)
    static int state = -1;   // benign race: every thread computes the same answer
    if (state < 0) state = detect_avx2();
    if (state) return block_avx2;
#endif
    return block_portable;
}

int lm_fo_vectorized(void) { return choose() != block_portable; }

void lm_fo_gemm(int m, int n, int k, const float *a, int lda, const float *packed,
                float *c, int ldc, int accumulate) {
    if (m <= 0 || n <= 0) return;
    block_fn block = choose();
    int panels = (n + NR - 1) / NR;
    for (int i0 = 0; i0 < m; i0 += MC) {
        int mc = m - i0 < MC ? m - i0 : MC;
        for (int p = 0; p < panels; p++) {
            const float *panel = packed + (size_t)p * NR * k;
            int j0 = p * NR, nr = n - j0 < NR ? n - j0 : NR;
            for (int i = 0; i < mc; i += MR) {
                int rows = mc - i < MR ? mc - i : MR;
                block(rows, k, a + (size_t)(i0 + i) * lda, lda, panel, c + (size_t)(i0 + i) * ldc + j0, ldc, nr, accumulate);
            }
        }
    }
}
