import Glibc

/// Rotary position embedding tables for one head dimension D (Su et al., RoFormer, §3.4).
/// Each of the D/2 rotation pairs (a, b) turns (x_a, x_b) by angle θ(t):
///   x_a' = x_a cos θ − x_b sin θ,  x_b' = x_a sin θ + x_b cos θ.
/// 1-D: pairs (i, i + D/2) ("rotate-half" layout), θ = pos · base^(−2i/D).
/// 2-D: the first half of D encodes the patch row, the second half the column, each as 1-D RoPE
/// over D/2 dims. Tables are [Bp, T, D/2] with Bp = 1 (shared positions) or B (per-sample ids).
public struct RoPE {
    public let headDim: Int
    public let tokens: Int
    public let batch: Int
    let pairA: [Int], pairB: [Int]
    let cos: [Float], sin: [Float]

    /// 1-D RoPE from explicit position ids: `positions` has T entries (shared) or B*T (per sample).
    public init(positions: [Int], batch: Int = 1, headDim: Int, base: Float = 10000) {
        precondition(headDim % 2 == 0, "RoPE: headDim must be even, got \(headDim)")
        precondition(batch >= 1 && positions.count % batch == 0, "RoPE: \(positions.count) positions for batch \(batch)")
        self.headDim = headDim
        self.batch = batch
        self.tokens = positions.count / batch
        let h = headDim / 2
        pairA = Array(0..<h); pairB = Array(h..<headDim)
        var c = [Float](repeating: 0, count: positions.count * h), s = c
        for (t, p) in positions.enumerated() {
            for i in 0..<h {
                let ang = Double(p) * Foundationless.pow(Double(base), -2.0 * Double(i) / Double(headDim))
                c[t * h + i] = Float(Glibc.cos(ang)); s[t * h + i] = Float(Glibc.sin(ang))
            }
        }
        cos = c; sin = s
    }

    /// 2-D RoPE for `prefix` unrotated tokens (e.g. CLS) followed by a rows x cols patch grid
    /// in row-major order.
    public static func grid2D(rows: Int, cols: Int, headDim: Int, prefix: Int = 0, base: Float = 100) -> RoPE {
        precondition(headDim % 4 == 0, "RoPE.grid2D: headDim must be a multiple of 4, got \(headDim)")
        var rs: [Int?] = Array(repeating: nil, count: prefix), cs: [Int?] = rs
        for r in 0..<rows { for c in 0..<cols { rs.append(r); cs.append(c) } }
        return RoPE(rows: rs, cols: cs, headDim: headDim, base: base)
    }

    /// 2-D RoPE from explicit (row, col) per token; nil = no rotation for that token. `rows` and
    /// `cols` hold T entries (shared by the batch) or B*T (per-sample positions, e.g. the visible
    /// patches of MAE-style masking, which differ per image).
    public init(rows: [Int?], cols: [Int?], batch: Int = 1, headDim: Int, base: Float = 100) {
        precondition(rows.count == cols.count, "RoPE: rows and cols must have equal length")
        precondition(batch >= 1 && rows.count % batch == 0, "RoPE: \(rows.count) positions for batch \(batch)")
        self.headDim = headDim; self.batch = batch; self.tokens = rows.count / batch
        let h = headDim / 2, q = h / 2
        var a: [Int] = [], b: [Int] = []
        for i in 0..<q { a.append(i); b.append(i + q) }
        for i in 0..<q { a.append(h + i); b.append(h + i + q) }
        pairA = a; pairB = b
        var c = [Float](repeating: 1, count: rows.count * h), s = [Float](repeating: 0, count: rows.count * h)
        for t in 0..<rows.count {
            for half in 0..<2 {
                guard let p = half == 0 ? rows[t] : cols[t] else { continue }
                for i in 0..<q {
                    let ang = Double(p) * Foundationless.pow(Double(base), -2.0 * Double(i) / Double(h))
                    c[t * h + half * q + i] = Float(Glibc.cos(ang)); s[t * h + half * q + i] = Float(Glibc.sin(ang))
                }
            }
        }
        cos = c; sin = s
    }

    /// Rotates one token's head vector `src` (D floats) into `dst` (may alias); `inverse` rotates back.
    @inline(__always)
    func rotate(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, b: Int, t: Int, inverse: Bool = false) {
        let h = headDim / 2
        let base = ((batch == 1 ? 0 : b) * tokens + t) * h
        for i in 0..<h {
            let c = cos[base + i], s = inverse ? -sin[base + i] : sin[base + i]
            let xa = src[pairA[i]], xb = src[pairB[i]]
            dst[pairA[i]] = xa * c - xb * s
            dst[pairB[i]] = xa * s + xb * c
        }
    }

    /// Applies the rotation to x [B, T, H*D] (differentiable, linear).
    public func apply(_ x: Tensor, heads: Int) -> Tensor {
        let (B, T) = (x.shape[0], x.shape[1])
        precondition(x.rank == 3 && x.shape[2] == heads * headDim, "RoPE.apply: x \(x.shape) vs heads \(heads) x \(headDim)")
        precondition(T <= tokens && (batch == 1 || batch == B), "RoPE.apply: tables for \(batch)x\(tokens) tokens, x has \(B)x\(T)")
        let rope = self
        func run(_ src: Tensor, inverse: Bool) -> Tensor {
            let o = Tensor(uninitialized: src.shape)
            for b in 0..<B { for t in 0..<T { for h in 0..<heads {
                let off = (b * T + t) * heads * headDim + h * headDim
                rope.rotate(src.ptr + off, o.ptr + off, b: b, t: t, inverse: inverse)
            } } }
            return o
        }
        let out = run(x, inverse: false)
        return Tensor.record(out, [x], backward: { g in x.accumulateGrad(run(g, inverse: true)) },
                             tangent: { t in run(t[0]!, inverse: false) }, op: "rope")
    }
}

/// Math helpers without Foundation.
enum Foundationless {
    @inline(__always) static func pow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
}
