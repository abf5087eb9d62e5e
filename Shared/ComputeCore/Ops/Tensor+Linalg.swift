import CBLAS
import Dispatch

/// Thin wrapper over cblas_sgemm (row-major): C = alpha * op(A) * op(B) + beta * C.
public enum BLAS {
    public typealias P = UnsafeMutablePointer<Float>
    @inline(__always)
    public static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                            _ b: UnsafePointer<Float>, _ ldb: Int,
                            _ beta: Float, _ c: P, _ ldc: Int, split: Bool = true) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        _ = Threads.initialised
        let workers = Threads.gemmWorkers
        if split && workers > 1 && m * n * k >= Threads.gemmSplitMNK && Swift.max(m, n) >= 2 * workers {
            // Split the larger output dimension across workers; each runs single-threaded sgemm.
            let cPtr = UnsafeMutableRawPointer(c), aPtr = UnsafeRawPointer(a), bPtr = UnsafeRawPointer(b)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let c = cPtr.assumingMemoryBound(to: Float.self)
                let a = aPtr.assumingMemoryBound(to: Float.self), b = bPtr.assumingMemoryBound(to: Float.self)
                if m >= n {
                    let s = m * w / workers, e = m * (w + 1) / workers
                    if e > s {
                        gemm(transA, transB, e - s, n, k, alpha, transA ? a + s : a + s * lda, lda, b, ldb,
                             beta, c + s * ldc, ldc, split: false)
                    }
                } else {
                    let s = n * w / workers, e = n * (w + 1) / workers
                    if e > s {
                        gemm(transA, transB, m, e - s, k, alpha, a, lda, transB ? b + s * ldb : b + s, ldb,
                             beta, c + s, ldc, split: false)
                    }
                }
            }
            return
        }
        mesh_flush_denormals()   // this thread: denormal operands would cost microcode assists (shim.h)
        if m == 1 {
            // One row (a decoding step's single token): a matrix-vector product. sgemm would pack all of
            // op(B) on every call (OpenBLAS 0.3.21's Zen kernels: ~70 % of one-token decoding time).
            // C[1, n] = alpha * op(B)^T a + beta * C, with B row-major [k, n] (or [n, k] when transB).
            cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                        alpha, b, Int32(ldb), a, Int32(transA ? lda : 1), beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Tensor {
    /// Matrix product over the last two axes with optional transposes:
    /// op(a) [..., M, K] x op(b) [..., K, N] -> [..., M, N]. Batch axes must match, or one side is 2-D.
    public func matmul(_ b: Tensor, transposeA ta: Bool = false, transposeB tb: Bool = false) -> Tensor {
        let a = self
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank >= 2, got \(a.shape) and \(b.shape)")
        let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1]
        let br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
        let (m, k) = ta ? (ac, ar) : (ar, ac)
        let (k2, n) = tb ? (bc, br) : (br, bc)
        precondition(k == k2, "matmul: inner sizes differ: \(a.shape)\(ta ? "ᵀ" : "") x \(b.shape)\(tb ? "ᵀ" : "")")
        let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
        let nbA = aBatch.reduce(1, *), nbB = bBatch.reduce(1, *)
        precondition(aBatch == bBatch || b.rank == 2 || a.rank == 2,
                     "matmul: batch shapes \(aBatch) and \(bBatch) differ")
        let batch = aBatch.count >= bBatch.count ? aBatch : bBatch
        let nb = Swift.max(nbA, nbB)
        let out = Tensor(uninitialized: batch + [m, n])
        Tensor.gemmBatched(ta, tb, m, n, k, a.ptr, ar * ac, nbA, ac, b.ptr, br * bc, nbB, bc,
                           0, out.ptr, m * n, nb)
        let ad = a.detached(), bd = b.detached()
        return Tensor.record(out, [a, b], backward: { g in
            if a.requiresGrad {
                // dA = dC op(B)^T  (or its transpose when A was transposed)
                let da = Tensor(uninitialized: nbA == nb ? a.shape : [nb] + Array(a.shape.suffix(2)))
                if ta {
                    Tensor.gemmBatched(tb, true, ar, ac, n, bd.ptr, br * bc, nbB, bc, g.ptr, m * n, nb, n,
                                       0, da.ptr, ar * ac, nb)
                } else {
                    Tensor.gemmBatched(false, !tb, ar, ac, n, g.ptr, m * n, nb, n, bd.ptr, br * bc, nbB, bc,
                                       0, da.ptr, ar * ac, nb)
                }
                a.accumulateGrad(nbA == nb ? da : da.sum(axis: 0).reshaped(a.shape))
            }
            if b.requiresGrad {
                let db = Tensor(uninitialized: nbB == nb ? b.shape : [nb] + Array(b.shape.suffix(2)))
                if tb {
                    Tensor.gemmBatched(true, ta, br, bc, m, g.ptr, m * n, nb, n, ad.ptr, ar * ac, nbA, ac,
                                       0, db.ptr, br * bc, nb)
                } else {
                    Tensor.gemmBatched(!ta, false, br, bc, m, ad.ptr, ar * ac, nbA, ac, g.ptr, m * n, nb, n,
                                       0, db.ptr, br * bc, nb)
                }
                b.accumulateGrad(nbB == nb ? db : db.sum(axis: 0).reshaped(b.shape))
            }
        }, tangent: { t in
            tsum(t[0].map { $0.matmul(bd, transposeA: ta, transposeB: tb) },
                 t[1].map { ad.matmul($0, transposeA: ta, transposeB: tb) }, out.shape)
        }, op: "matmul")
    }

    /// Loops sgemm over a batch; a side with batch count 1 is broadcast (stride 0).
    static func gemmBatched(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ a: UnsafeMutablePointer<Float>, _ aStride: Int, _ na: Int, _ lda: Int,
                            _ b: UnsafeMutablePointer<Float>, _ bStride: Int, _ nbB: Int, _ ldb: Int,
                            _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ cStride: Int, _ nb: Int) {
        // A 2-D B against a batched A with no transpose on A: one big GEMM (the fixed-order one
        // under `withBatchInvariance`, so a sample's rows do not depend on the batch).
        if nbB == 1 && !ta && na == nb {
            if BatchInvariance.isEnabled {
                precondition(beta == 0 || beta == 1, "gemmBatched: beta must be 0 or 1 under withBatchInvariance")
                FixedOrderGEMM.gemm(m: m * nb, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, transB: tb,
                                    accumulate: beta == 1, c: c, ldc: n)
            } else {
                BLAS.gemm(false, tb, m * nb, n, k, 1, a, lda, b, ldb, beta, c, n)
            }
            return
        }
        for i in 0..<nb {
            BLAS.gemm(ta, tb, m, n, k, 1, a + (na == 1 ? 0 : i * aStride), lda,
                      b + (nbB == 1 ? 0 : i * bStride), ldb, beta, c + i * cStride, n)
        }
    }

    /// Affine map y = x W^T + b with W [out, in] (PyTorch layout), x [..., in] -> [..., out].
    public static func linear(_ x: Tensor, _ w: Tensor, _ bias: Tensor?) -> Tensor {
        precondition(w.rank == 2, "linear: weight must be [out, in], got \(w.shape)")
        let fin = w.shape[1], fout = w.shape[0]
        precondition(x.shape.last == fin, "linear: input last axis \(x.shape.last ?? 0) != in_features \(fin)")
        if let bias { precondition(bias.shape == [fout], "linear: bias shape \(bias.shape) != [\(fout)]") }
        let rows = x.count / fin
        let out = Tensor(uninitialized: Array(x.shape.dropLast()) + [fout])
        var beta: Float = 0
        if let bias {
            let bp = bias.ptr, op = out.ptr
            parallelRange(rows, cost: fout) { s, e in
                for r in s..<e { (op + r * fout).update(from: bp, count: fout) }
            }
            beta = 1
        }
        if BatchInvariance.isEnabled {
            // Fixed-order GEMM: every row's bits are those of the row alone.
            FixedOrderGEMM.linear(m: rows, a: x.ptr, weight: w, accumulate: beta == 1, c: out.ptr)
        } else {
            BLAS.gemm(false, true, rows, fout, fin, 1, x.ptr, fin, w.ptr, fin, beta, out.ptr, fout)
        }
        let xd = x.detached(), wd = w.detached()
        var inputs = [x, w]
        if let bias { inputs.append(bias) }
        return record(out, inputs, backward: { g in
            if x.requiresGrad {
                let dx = Tensor(uninitialized: x.shape)
                BLAS.gemm(false, false, rows, fin, fout, 1, g.ptr, fout, wd.ptr, fin, 0, dx.ptr, fin)
                x.accumulateGrad(dx)
            }
            if w.requiresGrad {
                let dw = Tensor(uninitialized: w.shape)
                BLAS.gemm(true, false, fout, fin, rows, 1, g.ptr, fout, xd.ptr, fin, 0, dw.ptr, fin)
                w.accumulateGrad(dw)
            }
            if let bias, bias.requiresGrad {
                bias.accumulateGrad(g.reshaped([rows, fout]).rawSum(axis: 0).reshaped([fout]))
            }
        }, tangent: { t in
            var r: Tensor? = nil
            if let tx = t[0] { r = linear(tx, wd, nil) }
            if let tw = t[1] { let v = linear(xd, tw, nil); r = r.map { $0 + v } ?? v }
            if t.count > 2, let tb = t[2] { r = tsum(r, tb, out.shape) }
            return r
        }, op: "linear")
    }
}
