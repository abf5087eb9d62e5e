import ComputeCore
import Glibc

/// Per-channel latent normalisation with dataset statistics (METHODS.md §3), stored in the
/// generator checkpoint so sampling returns latents in the tokenizer's own scale.
public struct LatentNormalizer: Sendable, Equatable {
    /// Per-channel mean and standard deviation. [C]
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && std.allSatisfy { $0 > 0 }, "normaliser needs positive std per channel")
        self.mean = mean; self.std = std
    }

    /// The identity for `channels` channels.
    public static func identity(channels: Int) -> LatentNormalizer {
        LatentNormalizer(mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels))
    }

    /// Statistics of raw latents [N, T, C] over N·T positions (std floored at 1e-4).
    public static func fit(_ latents: Tensor) -> LatentNormalizer {
        let C = latents.shape[latents.rank - 1], rows = latents.count / C, p = latents.ptr
        var s = [Double](repeating: 0, count: C), s2 = [Double](repeating: 0, count: C)
        for r in 0..<rows { for c in 0..<C { let v = Double(p[r * C + c]); s[c] += v; s2[c] += v * v } }
        let mean = s.map { Float($0 / Double(rows)) }
        let std = (0..<C).map { c in Float(max(1e-4, (s2[c] / Double(rows) - Double(mean[c]) * Double(mean[c])).squareRoot())) }
        return LatentNormalizer(mean: mean, std: std)
    }

    /// (z - mean) / std per channel. [..., C] -> [..., C]
    public func normalize(_ z: Tensor) -> Tensor { map(z) { v, c in (v - mean[c]) / std[c] } }
    /// z·std + mean per channel. [..., C] -> [..., C]
    public func denormalize(_ z: Tensor) -> Tensor { map(z) { v, c in v * std[c] + mean[c] } }

    private func map(_ z: Tensor, _ f: (Float, Int) -> Float) -> Tensor {
        let C = mean.count
        precondition(z.shape.last == C, "latent channels \(z.shape) != \(C)")
        let out = Tensor(uninitialized: z.shape)
        let a = z.ptr, b = out.ptr
        for i in 0..<z.count { b[i] = f(a[i], i % C) }
        return out
    }

    /// As tensors for a checkpoint (`norm.mean`, `norm.std`).
    public var tensors: [(String, Tensor)] {
        [("norm.mean", Tensor(mean, shape: [mean.count])), ("norm.std", Tensor(std, shape: [std.count]))]
    }
}
