/// Pre-norm transformer block (ViT, Dosovitskiy et al. 2021 Eq. 2-3):
/// x += attn(norm1(x)); x += ffn(norm2(x)). Names `norm1`, `attn`, `norm2`, `mlp`.
public final class ViTBlock: Module {
    public let norm1: Norm, attn: SelfAttention, norm2: Norm, mlp: FeedForward
    /// Drop-path rate on both residual branches (active when `training`).
    public var dropPath: Float = 0
    public var training = true
    /// Randomness for drop-path.
    public var rng = RNG(seed: 0)
    public init(_ dim: Int, heads: Int, mlpRatio: Float = 4, norm: NormKind = .layerNorm, ffn: FFNKind = .gelu,
                qkvBias: Bool = true, rng: inout RNG) {
        norm1 = Norm(dim, kind: norm)
        attn = SelfAttention(dim, heads: heads, qkvBias: qkvBias, rng: &rng)
        norm2 = Norm(dim, kind: norm)
        let hidden = ffn == .swiglu ? Int(Float(dim) * mlpRatio * 2 / 3) : Int(Float(dim) * mlpRatio)
        mlp = FeedForward(dim, hidden: hidden, kind: ffn, rng: &rng)
    }
    /// x [B, T, D] -> [B, T, D]
    public func callAsFunction(_ x: Tensor, mask: AttentionMask = .none, rope: RoPE? = nil) -> Tensor {
        let on = training && dropPath > 0
        var a = attn(norm1(x), mask: mask, rope: rope)
        if on { a = a.dropPath(dropPath, rng: &rng) }
        let h = x + a
        var m = mlp(norm2(h))
        if on { m = m.dropPath(dropPath, rng: &rng) }
        return h + m
    }
    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], [("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp)])
    }
}
