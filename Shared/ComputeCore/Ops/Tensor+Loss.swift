import Glibc

// Losses. All return a scalar tensor (shape []).

extension Tensor {
    /// Cross-entropy of `logits` [N, C] against class `targets` (N ints), PyTorch semantics:
    /// targets equal to `ignoreIndex` are skipped; with class `weights` [C] the mean is
    /// sum_i w[y_i] * nll_i / sum_i w[y_i].
    public static func crossEntropy(_ logits: Tensor, targets: [Int], ignoreIndex: Int = -100,
                                    weights: Tensor? = nil) -> Tensor {
        let c = logits.shape.last ?? 1, n = logits.count / Swift.max(c, 1)
        precondition(targets.count == n, "crossEntropy: \(targets.count) targets for \(n) rows of \(logits.shape)")
        if let weights { precondition(weights.shape == [c], "crossEntropy: weights shape \(weights.shape) != [\(c)]") }
        let probs = Tensor(uninitialized: [n, c])
        var total: Double = 0, wsum: Double = 0
        var rowW = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let x = logits.ptr + i * c, p = probs.ptr + i * c
            Softmax.row(x, p, c)
            let y = targets[i]
            if y == ignoreIndex { continue }
            precondition(y >= 0 && y < c, "crossEntropy: target \(y) out of range 0..<\(c) (row \(i))")
            let w = weights?.ptr[y] ?? 1
            rowW[i] = w
            var m = -Float.infinity
            for j in 0..<c { m = Swift.max(m, x[j]) }
            var z: Float = 0
            for j in 0..<c { z += expf(x[j] - m) }
            total += Double(w) * Double(m + logf(z) - x[y])
            wsum += Double(w)
        }
        let denom = Float(Swift.max(wsum, 1e-30))
        let out = Tensor(scalar: wsum > 0 ? Float(total) / denom : 0)
        return record(out, [logits], backward: { g in
            let d = Tensor(zeros: logits.shape)
            let s = g.item / denom
            for i in 0..<n where rowW[i] != 0 {
                let p = probs.ptr + i * c, o = d.ptr + i * c, w = rowW[i] * s
                for j in 0..<c { o[j] = p[j] * w }
                o[targets[i]] -= w
            }
            logits.accumulateGrad(d)
        }, tangent: { t in
            let tl = t[0]!
            var acc: Float = 0
            for i in 0..<n where rowW[i] != 0 {
                let p = probs.ptr + i * c, tp = tl.ptr + i * c
                var e: Float = 0
                for j in 0..<c { e += p[j] * tp[j] }
                acc += rowW[i] * (e - tp[targets[i]])
            }
            return Tensor(scalar: acc / denom)
        }, op: "crossEntropy")
    }

    /// Mean squared error, mean over all elements.
    public static func mseLoss(_ a: Tensor, _ b: Tensor) -> Tensor { (a - b).square().mean() }
    /// Mean absolute error.
    public static func l1Loss(_ a: Tensor, _ b: Tensor) -> Tensor { (a - b).abs().mean() }
    /// Mean over rows of 1 - cos(a_i, b_i) along the last axis.
    public static func cosineLoss(_ a: Tensor, _ b: Tensor, eps: Float = 1e-8) -> Tensor {
        1 - (a.l2Normalized(eps: eps) * b.l2Normalized(eps: eps)).sum(axis: -1).mean()
    }
}
