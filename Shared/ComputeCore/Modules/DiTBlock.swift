/// x * (1 + scale) + shift with per-sample scale/shift [B, D] broadcast over tokens (DiT AdaLN).
public func modulate(_ x: Tensor, shift: Tensor, scale: Tensor) -> Tensor {
    let B = x.shape[0], D = x.shape[x.rank - 1]
    return x * (scale.reshaped([B, 1, D]) + 1) + shift.reshaped([B, 1, D])
}

/// DiT block with adaLN-Zero conditioning (Peebles & Xie 2023, §3.2) and optional text
/// cross-attention (PixArt-α style, ungated):
///   (s1, c1, g1, s2, c2, g2) = adaLN(silu(cond))
///   x += g1 * attn(modulate(norm1 x, s1, c1)); x += cross(normCross x, context); x += g2 * ffn(modulate(norm2 x, s2, c2)).
/// Names `norm1`, `attn`, `normCross`, `cross`, `norm2`, `mlp`, `adaLN`.
public final class DiTBlock: Module {
    public let norm1: Norm, attn: SelfAttention, norm2: Norm, mlp: FeedForward, adaLN: Linear
    public let normCross: Norm?, cross: CrossAttention?
    public let dim: Int
    public init(_ dim: Int, heads: Int, condDim: Int, contextDim: Int? = nil, mlpRatio: Float = 4,
                norm: NormKind = .layerNorm, ffn: FFNKind = .gelu, rng: inout RNG) {
        self.dim = dim
        norm1 = Norm(dim, kind: norm, eps: 1e-6, affine: false)
        attn = SelfAttention(dim, heads: heads, rng: &rng)
        norm2 = Norm(dim, kind: norm, eps: 1e-6, affine: false)
        let hidden = ffn == .swiglu ? Int(Float(dim) * mlpRatio * 2 / 3) : Int(Float(dim) * mlpRatio)
        mlp = FeedForward(dim, hidden: hidden, kind: ffn, rng: &rng)
        adaLN = Linear(condDim, 6 * dim, rng: &rng)
        adaLN.weight.fill(0); adaLN.bias?.fill(0)           // adaLN-Zero
        if let contextDim {
            normCross = Norm(dim, kind: norm)
            cross = CrossAttention(dim, contextDim: contextDim, heads: heads, rng: &rng)
        } else { normCross = nil; cross = nil }
    }
    /// x [B, T, D], cond [B, condDim], context [B, S, contextDim] -> [B, T, D]
    public func callAsFunction(_ x: Tensor, cond: Tensor, context: Tensor? = nil, contextPadding: Tensor? = nil,
                               mask: AttentionMask = .none, rope: RoPE? = nil) -> Tensor {
        let B = x.shape[0]
        let mod = adaLN(cond.silu()).reshaped([B, 6, dim])
        let m = (0..<6).map { mod.slice(axis: 1, $0, $0 + 1).reshaped([B, dim]) }
        var h = x + attn(modulate(norm1(x), shift: m[0], scale: m[1]), mask: mask, rope: rope) * m[2].reshaped([B, 1, dim])
        if let cross, let normCross, let context {
            h = h + cross(normCross(h), context: context, contextPadding: contextPadding)
        }
        return h + mlp(modulate(norm2(h), shift: m[3], scale: m[4])) * m[5].reshaped([B, 1, dim])
    }
    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], [("norm1", norm1), ("attn", attn), ("normCross", normCross), ("cross", cross),
                               ("norm2", norm2), ("mlp", mlp), ("adaLN", adaLN)])
    }
}
