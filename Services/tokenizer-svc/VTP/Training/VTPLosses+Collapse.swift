import ComputeCore
import Foundation

/// Collapse diagnostics of self-distillation (Caron et al. 2021, §5.3 "avoiding collapse"): the
/// two failure modes are read off the teacher's targets softmax((t - c) / τ_t).
/// - Uniform collapse: every target near uniform, per-sample entropy → ln K (sharpening lost).
/// - Dominant collapse: every sample on the same prototype, the batch-mean target's entropy → 0
///   (centring lost).
/// A learning teacher has a low per-sample entropy and a batch-mean entropy well above it.
public struct SSLCollapseStats: Sendable, Equatable {
    /// Mean over rows of H(p_i), nats. 0 (one-hot) … ln K (uniform).
    public var sampleEntropy: Double
    /// H(mean_i p_i), nats: how many prototypes the batch spreads over (exp of it ≈ effective count).
    public var batchEntropy: Double
    /// ln K, the uniform entropy.
    public var maxEntropy: Double
    /// exp(batchEntropy): the effective number of prototypes in use.
    public var effectivePrototypes: Double { exp(batchEntropy) }
}

extension VTPLosses {
    /// Collapse statistics of the teacher targets of `logits` ([N, K] each) under `center` and `temperature`.
    public static func collapseStats(_ logits: [Tensor], center: [Float], temperature: Float) -> SSLCollapseStats {
        let K = center.count
        var mean = [Double](repeating: 0, count: K)
        var sampleH = 0.0, rows = 0
        var p = [Double](repeating: 0, count: K)
        for t in logits {
            precondition(t.shape.count == 2 && t.shape[1] == K, "collapseStats: logits [N, \(K)], got \(t.shape)")
            let v = t.ptr
            for r in 0..<t.shape[0] {
                var mx = -Double.infinity
                for k in 0..<K { p[k] = Double(v[r * K + k] - center[k]) / Double(temperature); mx = max(mx, p[k]) }
                var z = 0.0
                for k in 0..<K { p[k] = exp(p[k] - mx); z += p[k] }
                var h = 0.0
                for k in 0..<K {
                    let q = p[k] / z
                    mean[k] += q
                    if q > 0 { h -= q * log(q) }
                }
                sampleH += h; rows += 1
            }
        }
        guard rows > 0 else { return SSLCollapseStats(sampleEntropy: .nan, batchEntropy: .nan, maxEntropy: log(Double(K))) }
        var batchH = 0.0
        for k in 0..<K { let q = mean[k] / Double(rows); if q > 0 { batchH -= q * log(q) } }
        return SSLCollapseStats(sampleEntropy: sampleH / Double(rows), batchEntropy: batchH, maxEntropy: log(Double(K)))
    }
}
