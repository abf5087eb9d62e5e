import CBLAS
import ComputeCore
import Foundation

extension MiniLMEncoder {
    /// Vector-Jacobian product of the encoder with respect to its input token embeddings:
    /// given dL/d(token features) returns dL/d(input embeddings) (what DTI / textual inversion
    /// optimise). inputEmbeddings, featureGradient [T, 384] -> (features [T, 384], gradient [T, 384])
    public func inputEmbeddingGradient(inputEmbeddings: [Float], count T: Int,
                                       featureGradient: [Float]) -> (features: [Float], gradient: [Float]) {
        let D = MiniLMEncoder.width
        precondition(featureGradient.count == T * D, "featureGradient must be [\(T), \(D)]")
        var tape: Tape? = Tape()
        let features = forward(inputEmbeddings, T: T, tape: &tape)
        return (features, backward(tape!, T: T, featureGradient: featureGradient))
    }

    /// Sentence embedding and dL/d(input embeddings) for a gradient on the L2-normalised
    /// mean-pooled embedding. embeddingGradient [384] -> (embedding [384], gradient [T, 384])
    public func sentenceEmbeddingGradient(inputEmbeddings: [Float], count T: Int,
                                          embeddingGradient: [Float]) -> (embedding: [Float], gradient: [Float]) {
        let D = MiniLMEncoder.width
        precondition(embeddingGradient.count == D, "embeddingGradient must be [\(D)]")
        var tape: Tape? = Tape()
        let feats = forward(inputEmbeddings, T: T, tape: &tape)
        var m = [Float](repeating: 0, count: D)
        for t in 0..<T { for d in 0..<D { m[d] += feats[t * D + d] / Float(T) } }
        let norm = max(m.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        let e = m.map { $0 / norm }
        // d e / d m = (I - e e^T) / ||m||
        let dot = zip(e, embeddingGradient).reduce(0) { $0 + $1.0 * $1.1 }
        let dm = (0..<D).map { (embeddingGradient[$0] - e[$0] * dot) / norm }
        var df = [Float](repeating: 0, count: T * D)
        for t in 0..<T { for d in 0..<D { df[t * D + d] = dm[d] / Float(T) } }
        return (e, backward(tape!, T: T, featureGradient: df))
    }

    /// LayerNorm backward: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma.
    static func layerNormBackward(_ dy: [Float], xhat: [Float], rstd: [Float], gamma: [Float], rows: Int, n: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: rows * n)
        for r in 0..<rows {
            var m1: Float = 0, m2: Float = 0
            for i in 0..<n {
                let g = dy[r * n + i] * gamma[i]
                m1 += g
                m2 += g * xhat[r * n + i]
            }
            m1 /= Float(n)
            m2 /= Float(n)
            for i in 0..<n {
                let g = dy[r * n + i] * gamma[i]
                dx[r * n + i] = rstd[r] * (g - m1 - xhat[r * n + i] * m2)
            }
        }
        return dx
    }

    func backward(_ tape: Tape, T: Int, featureGradient: [Float]) -> [Float] {
        let D = MiniLMEncoder.width
        let H = MiniLMEncoder.heads
        let dh = D / H
        let I = MiniLMEncoder.intermediate
        let scale = 1 / Float(dh).squareRoot()
        var dx = featureGradient
        for (l, layer) in layers.enumerated().reversed() {
            let c = tape.layers[l]
            // x2 = LN2(ff + x1)
            let dh2 = MiniLMEncoder.layerNormBackward(dx, xhat: c.xhat2, rstd: c.rstd2, gamma: layer.ln2g, rows: T, n: D)
            // ff = GELU(x1 Wi^T + bi) Wout^T + bout
            var dg = [Float](repeating: 0, count: T * I)
            DenseKernels.linearBackwardInput(dh2, rows: T, outF: D, weight: layer.wout, inF: I, into: &dg, accumulate: false)
            for i in 0..<(T * I) { dg[i] *= DenseKernels.geluDerivative(c.u[i]) }
            var dx1 = dh2
            DenseKernels.linearBackwardInput(dg, rows: T, outF: I, weight: layer.wi, inF: D, into: &dx1, accumulate: true)
            // x1 = LN1(ctx Wo^T + bo + x)
            let dh1 = MiniLMEncoder.layerNormBackward(dx1, xhat: c.xhat1, rstd: c.rstd1, gamma: layer.ln1g, rows: T, n: D)
            var dctx = [Float](repeating: 0, count: T * D)
            DenseKernels.linearBackwardInput(dh1, rows: T, outF: D, weight: layer.wo, inF: D, into: &dctx, accumulate: false)
            var dq = [Float](repeating: 0, count: T * D)
            var dk = dq, dv = dq
            var dp = [Float](repeating: 0, count: T * T)
            c.probs.withUnsafeBufferPointer { pb in dctx.withUnsafeBufferPointer { dcb in
            c.q.withUnsafeBufferPointer { qb in c.k.withUnsafeBufferPointer { kb in c.v.withUnsafeBufferPointer { vb in
            dq.withUnsafeMutableBufferPointer { dqb in dk.withUnsafeMutableBufferPointer { dkb in
            dv.withUnsafeMutableBufferPointer { dvb in dp.withUnsafeMutableBufferPointer { dpb in
                let dP = dpb.baseAddress!
                for h in 0..<H {
                    let p = pb.baseAddress! + h * T * T
                    let col = h * dh
                    // dP = dctx_h V_h^T ; dV_h = P^T dctx_h
                    BLAS.gemm(false, true, T, T, dh, 1,
                                dcb.baseAddress! + col, D, vb.baseAddress! + col, D, 0, dP, T)
                    BLAS.gemm(true, false, T, dh, T, 1,
                                p, T, dcb.baseAddress! + col, D, 0, dvb.baseAddress! + col, D)
                    // dS = P * (dP - rowsum(dP * P)), times the 1/sqrt(dh) of S
                    for r in 0..<T {
                        var s: Float = 0
                        for j in 0..<T { s += dP[r * T + j] * p[r * T + j] }
                        for j in 0..<T { dP[r * T + j] = p[r * T + j] * (dP[r * T + j] - s) * scale }
                    }
                    // dQ_h = dS K_h ; dK_h = dS^T Q_h
                    BLAS.gemm(false, false, T, dh, T, 1,
                                dP, T, kb.baseAddress! + col, D, 0, dqb.baseAddress! + col, D)
                    BLAS.gemm(true, false, T, dh, T, 1,
                                dP, T, qb.baseAddress! + col, D, 0, dkb.baseAddress! + col, D)
                }
            } } } } } } } } }
            var dIn = dh1  // residual
            DenseKernels.linearBackwardInput(dq, rows: T, outF: D, weight: layer.wq, inF: D, into: &dIn, accumulate: true)
            DenseKernels.linearBackwardInput(dk, rows: T, outF: D, weight: layer.wk, inF: D, into: &dIn, accumulate: true)
            DenseKernels.linearBackwardInput(dv, rows: T, outF: D, weight: layer.wv, inF: D, into: &dIn, accumulate: true)
            dx = dIn
        }
        // e = LN0(word + position + type): the position/type terms are constants.
        return MiniLMEncoder.layerNormBackward(dx, xhat: tape.xhat0, rstd: tape.rstd0, gamma: embLNg, rows: T, n: D)
    }
}
