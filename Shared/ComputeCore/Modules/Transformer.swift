/// Normalisation layer choice for transformer blocks.
public enum NormKind: Sendable { case layerNorm, rmsNorm }
/// Feed-forward choice for transformer blocks.
public enum FFNKind: Sendable { case gelu, swiglu }

/// LayerNorm or RMSNorm behind one type (names `weight`, and `bias` for LayerNorm).
public final class Norm: Module {
    public let kind: NormKind
    public let weight: Tensor?, bias: Tensor?
    public let eps: Float
    public init(_ dim: Int, kind: NormKind = .layerNorm, eps: Float? = nil, affine: Bool = true) {
        self.kind = kind
        self.eps = eps ?? (kind == .layerNorm ? 1e-5 : 1e-6)
        weight = affine ? Tensor.ones([dim]).requiringGrad() : nil
        bias = affine && kind == .layerNorm ? Tensor.zeros([dim]).requiringGrad() : nil
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        kind == .layerNorm ? Tensor.layerNorm(x, weight: weight, bias: bias, eps: eps)
                           : Tensor.rmsNorm(x, weight: weight, eps: eps)
    }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([("weight", weight), ("bias", bias)], []) }
}

/// GELU MLP or SwiGLU behind one type.
public final class FeedForward: Module {
    public let mlp: MLP?, swiglu: SwiGLU?
    public init(_ dim: Int, hidden: Int, kind: FFNKind = .gelu, rng: inout RNG) {
        if kind == .gelu { mlp = MLP(dim, hidden: hidden, rng: &rng); swiglu = nil }
        else { swiglu = SwiGLU(dim, hidden: hidden, rng: &rng); mlp = nil }
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { mlp.map { $0(x) } ?? swiglu!(x) }
    public func namedParameters() -> [(String, Tensor)] { mlp?.namedParameters() ?? swiglu!.namedParameters() }
}

/// Multi-head self-attention: packed `qkv` projection, fused attention, output `proj`.
public final class SelfAttention: Module {
    public let qkv: Linear, proj: Linear
    public let heads: Int
    public init(_ dim: Int, heads: Int, qkvBias: Bool = true, rng: inout RNG) {
        precondition(dim % heads == 0, "SelfAttention: dim \(dim) not divisible by heads \(heads)")
        self.heads = heads
        qkv = Linear(dim, 3 * dim, bias: qkvBias, rng: &rng)
        proj = Linear(dim, dim, rng: &rng)
    }
    public var headDim: Int { proj.inFeatures / heads }
    /// x [B, T, D] -> [B, T, D]
    public func callAsFunction(_ x: Tensor, mask: AttentionMask = .none, rope: RoPE? = nil) -> Tensor {
        proj(Tensor.attention(qkv: qkv(x), heads: heads, mask: mask, rope: rope))
    }
    /// Incremental decoding step over a KV cache (no tape). x [B, Tnew, D].
    public func decode(_ x: Tensor, cache: KVCache, rope: RoPE?, mask: AttentionMask = .causal) -> Tensor {
        let D = proj.inFeatures
        let p = qkv(x)
        let parts = p.split(axis: 2, sizes: [D, D, D])
        return proj(Tensor.attention(q: parts[0], k: parts[1], v: parts[2], heads: heads, cache: cache, rope: rope, mask: mask))
    }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([], [("qkv", qkv), ("proj", proj)]) }
}

/// Multi-head cross-attention: queries from x, keys/values from a context sequence.
public final class CrossAttention: Module {
    public let q: Linear, kv: Linear, proj: Linear
    public let heads: Int
    public init(_ dim: Int, contextDim: Int, heads: Int, rng: inout RNG) {
        precondition(dim % heads == 0, "CrossAttention: dim \(dim) not divisible by heads \(heads)")
        self.heads = heads
        q = Linear(dim, dim, rng: &rng)
        kv = Linear(contextDim, 2 * dim, rng: &rng)
        proj = Linear(dim, dim, rng: &rng)
    }
    /// x [B, T, D], context [B, S, Dc], contextPadding [B, S] (1 = real) -> [B, T, D]
    public func callAsFunction(_ x: Tensor, context: Tensor, contextPadding: Tensor? = nil) -> Tensor {
        let D = q.outFeatures
        let kvp = kv(context).split(axis: 2, sizes: [D, D])
        return proj(Tensor.attention(q: q(x), k: kvp[0], v: kvp[1], heads: heads,
                                     mask: AttentionMask(keyPadding: contextPadding)))
    }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([], [("q", q), ("kv", kv), ("proj", proj)]) }
}

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
