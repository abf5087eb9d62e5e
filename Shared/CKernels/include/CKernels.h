// Fixed-order single-precision GEMM for batch-invariant serving (see ComputeCore's
// `FixedOrderGEMM`). Every output element is one fused multiply-add chain over k = 0..K-1 in
// ascending order, started from 0, whatever M, N, the row block or the thread that computes it:
// a row's result never depends on the other rows of the call, so a batch can share one call.
#pragma once
#include <stddef.h>

/// Floats needed by `lm_fo_pack` for an [N, K] (or [K, N]) right-hand side: ceil(N/16)*16*K.
size_t lm_fo_packed_count(int n, int k);

/// Packs the right-hand side B into 16-column panels [ceil(N/16)][K][16] (missing columns zero).
/// trans_b != 0: B is [N, K] row-major (PyTorch weight layout, C = A B^T); else B is [K, N].
void lm_fo_pack(int n, int k, const float *b, int ldb, int trans_b, float *packed);

/// C[m, n] (+)= A[m, k] * B for rows [0, m) with B packed by `lm_fo_pack`. accumulate != 0 adds
/// the product to C (one rounding: c + chain); else C is overwritten with the chain.
void lm_fo_gemm(int m, int n, int k, const float *a, int lda, const float *packed,
                float *c, int ldc, int accumulate);

/// 1 when the AVX2+FMA kernel is in use on this CPU, 0 for the portable fmaf kernel (same bits).
int lm_fo_vectorized(void);
