import XCTest
@testable import ComputeCore

final class AttentionTests: XCTestCase {
    var rng = RNG(seed: 21)

    /// Unfused reference built from basic ops: softmax(QKᵀ·s + bias) V per head.
    func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, bias: Tensor?) -> Tensor {
        let B = q.shape[0], Tq = q.shape[1], C = q.shape[2], Tk = k.shape[1], D = C / heads
        let qh = q.reshaped([B, Tq, heads, D]).permuted([0, 2, 1, 3])
        let kh = k.reshaped([B, Tk, heads, D]).permuted([0, 2, 1, 3])
        let vh = v.reshaped([B, Tk, heads, D]).permuted([0, 2, 1, 3])
        var s = qh.matmul(kh, transposeB: true) * (1 / Float(D).squareRoot())
        if let bias { s = s + bias }
        return s.softmax().matmul(vh).permuted([0, 2, 1, 3]).reshaped([B, Tq, C])
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ tol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        for i in 0..<a.count where abs(a.ptr[i] - b.ptr[i]) > tol {
            XCTFail("element \(i): \(a.ptr[i]) vs \(b.ptr[i])", file: file, line: line); return
        }
    }

    func testMatchesReferenceWithMasks() {
        let (B, T, C, H) = (2, 5, 8, 2)
        let q = rng.normal([B, T, C]), k = rng.normal([B, T, C]), v = rng.normal([B, T, C])
        assertClose(Tensor.attention(q: q, k: k, v: v, heads: H), reference(q, k, v, heads: H, bias: nil))
        // causal
        var causal = [Float](repeating: 0, count: T * T)
        for i in 0..<T { for j in 0..<T where j > i { causal[i * T + j] = -.infinity } }
        let cb = Tensor(causal, shape: [T, T])
        assertClose(Tensor.attention(q: q, k: k, v: v, heads: H, mask: .causal), reference(q, k, v, heads: H, bias: cb))
        // key padding: batch 1 has its last two keys padded
        let pad = Tensor([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], shape: [B, T])
        var pb = [Float](repeating: 0, count: B * T * T)
        for i in 0..<T { for j in 3..<T { pb[(T + i) * T + j] = -.infinity } }
        let padBias = Tensor(pb, shape: [B, 1, T, T])
        assertClose(Tensor.attention(q: q, k: k, v: v, heads: H, mask: AttentionMask(keyPadding: pad)),
                    reference(q, k, v, heads: H, bias: padBias))
        // arbitrary additive mask and packed qkv
        let add = rng.normal([B, T, T])
        let packed = Tensor.concat([q, k, v], axis: 2)
        assertClose(Tensor.attention(qkv: packed, heads: H, mask: AttentionMask(additive: add)),
                    reference(q, k, v, heads: H, bias: add.reshaped([B, 1, T, T])))
    }

    func testParallelPathMatchesReference() {
        // Large enough (Tq*Tk*D >= 4096) to run heads on the parallel workers.
        let q = rng.normal([2, 16, 32]), k = rng.normal([2, 16, 32]), v = rng.normal([2, 16, 32])
        assertClose(Tensor.attention(q: q, k: k, v: v, heads: 2), reference(q, k, v, heads: 2, bias: nil), 1e-4)
        let qkv = rng.normal([2, 16, 96]).requiringGrad()
        let y = Tensor.attention(qkv: qkv, heads: 2)
        let parts = qkv.split(axis: 2, sizes: [32, 32, 32])
        let r = reference(parts[0], parts[1], parts[2], heads: 2, bias: nil)
        assertClose(y, r, 1e-4)
        let w = rng.normal([2, 16, 32])
        (y * w).sum().backward()
        let g1 = qkv.grad!.copy(); qkv.zeroGrad()
        (r * w).sum().backward()
        assertClose(g1, qkv.grad!, 1e-4)
    }

    func testGradients() {
        let (B, T, C, H) = (2, 4, 8, 2)
        let add = rng.normal([T, T])
        let pad = Tensor([1, 1, 1, 0, 1, 1, 1, 1], shape: [B, T])
        let masks = [AttentionMask.none, .causal, AttentionMask(keyPadding: pad), AttentionMask(additive: add)]
        for m in masks {
            GradCheck.check([rng.normal([B, T, C]), rng.normal([B, 3, C]), rng.normal([B, 3, C])].enumerated().map {
                $0.offset == 0 ? $0.element.slice(axis: 1, 0, 3).copy() : $0.element
            }) { x in Tensor.attention(q: x[0], k: x[1], v: x[2], heads: H, mask: m.keyPadding == nil && m.additive == nil ? m : .none) }
            GradCheck.check([rng.normal([B, T, 3 * C])]) { Tensor.attention(qkv: $0[0], heads: H, mask: m) }
        }
        let rope = RoPE(positions: [3, 0, 7, 2], headDim: C / H)
        GradCheck.check([rng.normal([B, T, 3 * C])]) { Tensor.attention(qkv: $0[0], heads: H, mask: .causal, rope: rope) }
        GradCheck.check([rng.normal([B, T, C]), rng.normal([B, T, C]), rng.normal([B, T, C])]) {
            Tensor.attention(q: $0[0], k: $0[1], v: $0[2], heads: H, rope: rope)
        }
        GradCheck.check([rng.normal([B, T, C])]) { rope.apply($0[0], heads: H) }
    }

    func testJVP() {
        let (B, T, C, H) = (1, 4, 8, 2)
        let rope = RoPE.grid2D(rows: 2, cols: 2, headDim: C / H)
        GradCheck.checkJVP([rng.normal([B, T, 3 * C])]) { Tensor.attention(qkv: $0[0], heads: H, mask: .causal, rope: rope) }
        GradCheck.checkJVP([rng.normal([B, T, C]), rng.normal([B, 3, C]), rng.normal([B, 3, C])]) {
            Tensor.attention(q: $0[0], k: $0[1], v: $0[2], heads: H)
        }
    }

    func testRoPEPropertiesAndRelativePosition() {
        // Rotation keeps norms; scores depend only on position differences.
        let D = 8
        let r1 = RoPE(positions: [2, 5], headDim: D), r2 = RoPE(positions: [10, 13], headDim: D)
        let q = rng.normal([1, 1, D]), k = rng.normal([1, 1, D])
        let qk = Tensor.concat([q, k], axis: 1)
        let a = r1.apply(qk, heads: 1), b = r2.apply(qk, heads: 1)
        func dot(_ t: Tensor) -> Float { var s: Float = 0; for j in 0..<D { s += t.ptr[j] * t.ptr[D + j] }; return s }
        XCTAssertEqual(dot(a), dot(b), accuracy: 1e-4)
        XCTAssertEqual((a * a).sum().item, (qk * qk).sum().item, accuracy: 1e-4)
        let g = RoPE.grid2D(rows: 2, cols: 3, headDim: 8, prefix: 1)
        XCTAssertEqual(g.tokens, 7)
        let x = rng.normal([1, 7, 8])
        let y = g.apply(x, heads: 1)
        for j in 0..<8 { XCTAssertEqual(y.ptr[j], x.ptr[j]) }   // prefix token not rotated
    }

    func testKVCacheMatchesFullCausal() {
        let (B, T, C, H) = (2, 6, 8, 2)
        let q = rng.normal([B, T, C]), k = rng.normal([B, T, C]), v = rng.normal([B, T, C])
        let pos = [0, 1, 2, 3, 4, 5]
        let full = Tensor.attention(q: q, k: k, v: v, heads: H, mask: .causal, rope: RoPE(positions: pos, headDim: C / H))
        let cache = KVCache(batch: B, capacity: 8, dim: C)
        var outs: [Tensor] = []
        for (s, e) in [(0, 3), (3, 4), (4, 6)] {
            let r = RoPE(positions: Array(pos[s..<e]), headDim: C / H)
            outs.append(Tensor.attention(q: q.slice(axis: 1, s, e).copy(), k: k.slice(axis: 1, s, e).copy(),
                                         v: v.slice(axis: 1, s, e).copy(), heads: H, cache: cache, rope: r))
        }
        assertClose(Tensor.concat(outs, axis: 1), full, 1e-5)
        XCTAssertEqual(cache.length, 6)
        cache.truncate(to: 3)
        XCTAssertEqual(cache.length, 3)
    }

    func testSelfAttentionDecodeMatchesFullForwardWithPositionIds() {
        // Per-sample position ids (as ReFusion uses): decode in two chunks == one causal pass.
        let attn = SelfAttention(8, heads: 2, rng: &rng)
        let x = rng.normal([2, 5, 8])
        let ids = [0, 1, 2, 7, 8, 0, 1, 4, 5, 6]
        let full = withNoGrad { attn(x, mask: .causal, rope: RoPE(positions: ids, batch: 2, headDim: 4)) }
        let cache = KVCache(batch: 2, capacity: 5, dim: 8)
        let a = withNoGrad { attn.decode(x.slice(axis: 1, 0, 2).copy(), cache: cache,
                                         rope: RoPE(positions: [0, 1, 0, 1], batch: 2, headDim: 4)) }
        let b = withNoGrad { attn.decode(x.slice(axis: 1, 2, 5).copy(), cache: cache,
                                         rope: RoPE(positions: [2, 7, 8, 4, 5, 6], batch: 2, headDim: 4)) }
        assertClose(Tensor.concat([a, b], axis: 1), full, 1e-5)
    }
}
