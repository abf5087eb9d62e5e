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
