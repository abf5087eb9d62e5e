import CBLAS
import ComputeCore
import Foundation

extension MiniLMEncoder {
    /// Activations a backward pass needs, recorded per layer when a tape is requested.
    struct LayerCache {
        var input: [Float]   // [T, D]
        var q, k, v: [Float] // [T, D]
        var probs: [Float]   // [H, T, T]
        var ctx: [Float]     // [T, D]
        var xhat1: [Float]   // [T, D] normalised pre-affine
        var rstd1: [Float]   // [T]
        var u: [Float]       // [T, I] pre-GELU
        var xhat2: [Float]
        var rstd2: [Float]
    }

    struct Tape {
        var xhat0: [Float] = []
        var rstd0: [Float] = []
        var layers: [LayerCache] = []
    }

    /// LayerNorm returning the normalised values before the affine map and 1/std per row.
    static func normalize(_ x: [Float], rows: Int, n: Int) -> (xhat: [Float], rstd: [Float]) {
        var xhat = x
        var rstd = [Float](repeating: 0, count: rows)
        xhat.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                let row = p.baseAddress! + r * n
                var mean: Float = 0
                for i in 0..<n { mean += row[i] }
                mean /= Float(n)
                var v: Float = 0
                for i in 0..<n { let d = row[i] - mean; v += d * d }
                let rs = 1 / (v / Float(n) + eps).squareRoot()
                rstd[r] = rs
                for i in 0..<n { row[i] = (row[i] - mean) * rs }
            }
        }
        return (xhat, rstd)
    }

    static func affine(_ xhat: [Float], rows: Int, n: Int, gamma: [Float], beta: [Float]) -> [Float] {
        var y = xhat
        for r in 0..<rows { for i in 0..<n { y[r * n + i] = xhat[r * n + i] * gamma[i] + beta[i] } }
        return y
    }

    /// The encoder from input embeddings [T, D] to final token features [T, D];
    /// fills `tape` when it is non-nil.
    func forward(_ inputEmbeddings: [Float], T: Int, tape: inout Tape?) -> [Float] {
        forward(inputEmbeddings, lengths: [T], tape: &tape)
    }

    /// Packed forward: several sequences stacked row-wise ([sum(lengths), D]); dense layers run
    /// on all rows at once, attention stays within each sequence. A tape needs one sequence.
    func forward(_ inputEmbeddings: [Float], lengths: [Int], tape: inout Tape?) -> [Float] {
        let D = MiniLMEncoder.width
        let H = MiniLMEncoder.heads
        let dh = D / H
        let I = MiniLMEncoder.intermediate
        precondition(lengths.allSatisfy { $0 >= 1 && $0 <= MiniLMEncoder.maxPositions }, "sequence lengths must lie in 1...512")
        precondition(tape == nil || lengths.count == 1, "a tape records a single sequence")
        let T = lengths.reduce(0, +)
        precondition(inputEmbeddings.count == T * D, "input embeddings must be [\(T), \(D)]")
        var offsets: [Int] = []
        var acc = 0
        for l in lengths { offsets.append(acc); acc += l }
        var e = inputEmbeddings
        for (seg, len) in lengths.enumerated() {
            let base = offsets[seg]
            for t in 0..<len { for d in 0..<D { e[(base + t) * D + d] += positionEmbeddings[t * D + d] + tokenTypeEmbedding[d] } }
        }
        let (xh0, rs0) = MiniLMEncoder.normalize(e, rows: T, n: D)
        var x = MiniLMEncoder.affine(xh0, rows: T, n: D, gamma: embLNg, beta: embLNb)
        if tape != nil { tape!.xhat0 = xh0; tape!.rstd0 = rs0 }
        let scale = 1 / Float(dh).squareRoot()
        var q = [Float](repeating: 0, count: T * D)
        var k = q, v = q, ctx = q, attnOut = q, ffOut = q
        let maxLen = lengths.max()!
        var probs = [Float](repeating: 0, count: H * (tape == nil ? maxLen * maxLen : T * T))
        var u = [Float](repeating: 0, count: T * I)
        for layer in layers {
            DenseKernels.linear(x, rows: T, inF: D, weight: layer.wq, bias: layer.bq, outF: D, into: &q)
            DenseKernels.linear(x, rows: T, inF: D, weight: layer.wk, bias: layer.bk, outF: D, into: &k)
            DenseKernels.linear(x, rows: T, inF: D, weight: layer.wv, bias: layer.bv, outF: D, into: &v)
            q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
                probs.withUnsafeMutableBufferPointer { pp in ctx.withUnsafeMutableBufferPointer { cp in
                    for (seg, L) in lengths.enumerated() {
                        let row0 = offsets[seg] * D
                        for h in 0..<H {
                            let s = pp.baseAddress! + h * L * L
                            // S = scale * Q_h K_h^T  [L, L]
                            BLAS.gemm(false, true, L, L, dh, scale,
                                        qp.baseAddress! + row0 + h * dh, D, kp.baseAddress! + row0 + h * dh, D, 0, s, L)
                            DenseKernels.softmaxRows(s, rows: L, n: L)
                            // ctx_h = P V_h  [L, dh]
                            BLAS.gemm(false, false, L, dh, L, 1,
                                        s, L, vp.baseAddress! + row0 + h * dh, D, 0, cp.baseAddress! + row0 + h * dh, D)
                        }
                    }
                } }
            } } }
            DenseKernels.linear(ctx, rows: T, inF: D, weight: layer.wo, bias: layer.bo, outF: D, into: &attnOut)
            for i in 0..<(T * D) { attnOut[i] += x[i] }
            let (xh1, rs1) = MiniLMEncoder.normalize(attnOut, rows: T, n: D)
            let x1 = MiniLMEncoder.affine(xh1, rows: T, n: D, gamma: layer.ln1g, beta: layer.ln1b)
            DenseKernels.linear(x1, rows: T, inF: D, weight: layer.wi, bias: layer.bi, outF: I, into: &u)
            var g = u
            DenseKernels.gelu(&g, count: T * I)
            DenseKernels.linear(g, rows: T, inF: I, weight: layer.wout, bias: layer.bout, outF: D, into: &ffOut)
            for i in 0..<(T * D) { ffOut[i] += x1[i] }
            let (xh2, rs2) = MiniLMEncoder.normalize(ffOut, rows: T, n: D)
            if tape != nil {
                tape!.layers.append(LayerCache(input: x, q: q, k: k, v: v, probs: probs, ctx: ctx, xhat1: xh1, rstd1: rs1,
                                               u: u, xhat2: xh2, rstd2: rs2))
            }
            x = MiniLMEncoder.affine(xh2, rows: T, n: D, gamma: layer.ln2g, beta: layer.ln2b)
        }
        return x
    }
}
