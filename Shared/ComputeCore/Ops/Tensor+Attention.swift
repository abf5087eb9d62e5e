import Glibc

extension Tensor {
    /// Multi-head scaled dot-product attention, fused (scores never leave the kernel's P buffer).
    /// q [B, Tq, H*D], k and v [B, Tk, H*D] -> [B, Tq, H*D]. Heads are contiguous D-blocks of the
    /// last axis. `rope` (if given) rotates q and k by their token index (self-attention).
    /// Formula: softmax(QKᵀ/√D + mask) V (Vaswani et al. 2017, §3.2.1).
    public static func attention(q: Tensor, k: Tensor, v: Tensor, heads: Int, mask: AttentionMask = .none,
                                 rope: RoPE? = nil, scale: Float? = nil) -> Tensor {
        precondition(q.rank == 3 && k.rank == 3 && v.rank == 3, "attention: q, k, v must be [B, T, H*D]")
        let B = q.shape[0], Tq = q.shape[1], C = q.shape[2], Tk = k.shape[1]
        precondition(C % heads == 0, "attention: width \(C) not divisible by heads \(heads)")
        precondition(k.shape == [B, Tk, C] && v.shape == [B, Tk, C],
                     "attention: k \(k.shape) and v \(v.shape) must be [\(B), Tk, \(C)]")
        let D = C / heads
        let kern = AttentionKernel(B: B, H: heads, D: D, Tq: Tq, Tk: Tk, scale: scale ?? 1 / Float(D).squareRoot(),
                                   mask: mask, ropeQ: rope, ropeK: rope, ropeKOffset: 0)
        func view(_ t: Tensor, _ T: Int) -> HeadView { HeadView(base: t.ptr, rowStride: C, tokens: T, col: 0) }
        let out = Tensor(uninitialized: [B, Tq, C])
        let P = Tensor(uninitialized: [B, heads, Tq, Tk])
        kern.forward(q: view(q, Tq), k: view(k, Tk), v: view(v, Tk), out: view(out, Tq), P: P.ptr)
        return record(out, [q, k, v], backward: { g in
            let dq = q.requiresGrad ? Tensor(uninitialized: q.shape) : nil
            let dk = k.requiresGrad ? Tensor(uninitialized: k.shape) : nil
            let dv = v.requiresGrad ? Tensor(uninitialized: v.shape) : nil
            kern.backward(q: view(q, Tq), k: view(k, Tk), v: view(v, Tk), P: P.ptr, dO: view(g, Tq),
                          dq: dq.map { view($0, Tq) }, dk: dk.map { view($0, Tk) }, dv: dv.map { view($0, Tk) })
            if let dq { q.accumulateGrad(dq) }
            if let dk { k.accumulateGrad(dk) }
            if let dv { v.accumulateGrad(dv) }
        }, tangent: { t in
            let o = Tensor(uninitialized: [B, Tq, C])
            kern.tangent(q: view(q, Tq), k: view(k, Tk), v: view(v, Tk), P: P.ptr,
                         tq: t[0].map { view($0, Tq) }, tk: t[1].map { view($0, Tk) }, tv: t[2].map { view($0, Tk) },
                         out: view(o, Tq))
            return o
        }, op: "attention")
    }

    /// Self-attention on a packed projection qkv [B, T, 3*H*D] (q | k | v blocks) -> [B, T, H*D].
    /// Avoids splitting copies; gradients come back packed.
    public static func attention(qkv: Tensor, heads: Int, mask: AttentionMask = .none, rope: RoPE? = nil,
                                 scale: Float? = nil) -> Tensor {
        precondition(qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0,
                     "attention(qkv:): shape \(qkv.shape) must be [B, T, 3*H*D] with H=\(heads)")
        let B = qkv.shape[0], T = qkv.shape[1], C = qkv.shape[2] / 3, D = C / heads
        let kern = AttentionKernel(B: B, H: heads, D: D, Tq: T, Tk: T, scale: scale ?? 1 / Float(D).squareRoot(),
                                   mask: mask, ropeQ: rope, ropeK: rope, ropeKOffset: 0)
        func views(_ t: Tensor) -> (HeadView, HeadView, HeadView) {
            (HeadView(base: t.ptr, rowStride: 3 * C, tokens: T, col: 0),
             HeadView(base: t.ptr, rowStride: 3 * C, tokens: T, col: C),
             HeadView(base: t.ptr, rowStride: 3 * C, tokens: T, col: 2 * C))
        }
        let outView: (Tensor) -> HeadView = { HeadView(base: $0.ptr, rowStride: C, tokens: T, col: 0) }
        let out = Tensor(uninitialized: [B, T, C])
        let P = Tensor(uninitialized: [B, heads, T, T])
        let (qv, kv, vv) = views(qkv)
        kern.forward(q: qv, k: kv, v: vv, out: outView(out), P: P.ptr)
        return record(out, [qkv], backward: { g in
            let d = Tensor(uninitialized: qkv.shape)
            let (dq, dk, dv) = views(d)
            let (qv, kv, vv) = views(qkv)
            kern.backward(q: qv, k: kv, v: vv, P: P.ptr, dO: outView(g), dq: dq, dk: dk, dv: dv)
            qkv.accumulateGrad(d)
        }, tangent: { t in
            let o = Tensor(uninitialized: [B, T, C])
            let (qv, kv, vv) = views(qkv)
            let (tq, tk, tv) = views(t[0]!)
            kern.tangent(q: qv, k: kv, v: vv, P: P.ptr, tq: tq, tk: tk, tv: tv, out: outView(o))
            return o
        }, op: "attention(qkv)")
    }

    /// Incremental decoding with a KV cache (no tape): rotates the new keys with `rope`
    /// (positions of the new tokens), appends k/v to `cache`, and attends q (rotated with
    /// the same `rope`) over every cached key, causally in physical order.
    /// q, k, v [B, Tnew, H*D] -> [B, Tnew, H*D].
    public static func attention(q: Tensor, k: Tensor, v: Tensor, heads: Int, cache: KVCache,
                                 rope: RoPE? = nil, mask: AttentionMask = .causal, scale: Float? = nil) -> Tensor {
        let B = q.shape[0], Tn = q.shape[1], C = q.shape[2]
        precondition(B == cache.batch && C == cache.dim, "attention(cache:): q \(q.shape) vs cache [\(cache.batch), _, \(cache.dim)]")
        precondition(k.shape == q.shape && v.shape == q.shape, "attention(cache:): q, k, v must share shape \(q.shape)")
        precondition(cache.length + Tn <= cache.capacity,
                     "attention(cache:): \(cache.length) + \(Tn) tokens exceed cache capacity \(cache.capacity)")
        let D = C / heads
        if let rope {
            precondition(rope.headDim == D && rope.tokens >= Tn && (rope.batch == 1 || rope.batch == B),
                         "attention(cache:): RoPE (headDim \(rope.headDim), \(rope.batch)x\(rope.tokens) tokens) does not fit \(B)x\(Tn) tokens of head size \(D)")
        }
        let start = cache.length
        for b in 0..<B {
            for t in 0..<Tn {
                let src = (b * Tn + t) * C, dst = (b * cache.capacity + start + t) * C
                (cache.v.ptr + dst).update(from: v.ptr + src, count: C)
                if let rope {
                    for h in 0..<heads { rope.rotate(k.ptr + src + h * D, cache.k.ptr + dst + h * D, b: b, t: t) }
                } else {
                    (cache.k.ptr + dst).update(from: k.ptr + src, count: C)
                }
            }
        }
        cache.length += Tn
        let Tk = cache.length
        if let kp = mask.keyPadding {
            precondition(kp.shape == [B, Tk], "attention(cache:): keyPadding must be [B, \(Tk)] (all cached keys)")
        }
        let kern = AttentionKernel(B: B, H: heads, D: D, Tq: Tn, Tk: Tk, scale: scale ?? 1 / Float(D).squareRoot(),
                                   mask: mask, ropeQ: rope, ropeK: nil, ropeKOffset: 0)
        let out = Tensor(uninitialized: [B, Tn, C])
        let P = Tensor(uninitialized: [B, heads, Tn, Tk])
        kern.forward(q: HeadView(base: q.ptr, rowStride: C, tokens: Tn, col: 0),
                     k: HeadView(base: cache.k.ptr, rowStride: C, tokens: cache.capacity, col: 0),
                     v: HeadView(base: cache.v.ptr, rowStride: C, tokens: cache.capacity, col: 0),
                     out: HeadView(base: out.ptr, rowStride: C, tokens: Tn, col: 0), P: P.ptr)
        return out
    }
}

/// Keys (already rotated) and values of past tokens for incremental decoding. [B, capacity, H*D].
public final class KVCache {
    public let batch: Int, capacity: Int, dim: Int
    let k: Tensor, v: Tensor
    /// Number of cached tokens.
    public internal(set) var length = 0
    public init(batch: Int, capacity: Int, dim: Int) {
        precondition(batch > 0 && capacity > 0 && dim > 0, "KVCache: batch, capacity, dim must be > 0")
        self.batch = batch; self.capacity = capacity; self.dim = dim
        k = Tensor(zeros: [batch, capacity, dim]); v = Tensor(zeros: [batch, capacity, dim])
    }
    /// Drops cached tokens beyond `n` (e.g. rejected drafts).
    public func truncate(to n: Int) {
        precondition(n >= 0 && n <= length, "KVCache.truncate: \(n) not in 0...\(length)")
        length = n
    }
    /// A copy sharing nothing (to branch decoding).
    public func copy() -> KVCache {
        let c = KVCache(batch: batch, capacity: capacity, dim: dim)
        c.k.assign(k); c.v.assign(v); c.length = length
        return c
    }
}
