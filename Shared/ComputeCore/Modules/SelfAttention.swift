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
