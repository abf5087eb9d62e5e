import XCTest
@testable import ComputeCore

final class ConvAndModuleTests: XCTestCase {
    var rng = RNG(seed: 31)

    func naiveConv(_ x: Tensor, _ w: Tensor, stride: Int, pad: Int, groups: Int) -> [Float] {
        let (B, Cin, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (Cout, Cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let Ho = (H + 2 * pad - kh) / stride + 1, Wo = (W + 2 * pad - kw) / stride + 1
        var out = [Float](repeating: 0, count: B * Cout * Ho * Wo)
        let cog = Cout / groups
        for b in 0..<B { for co in 0..<Cout { for oh in 0..<Ho { for ow in 0..<Wo {
            var s: Float = 0
            let g = co / cog
            for c in 0..<Cg { for i in 0..<kh { for j in 0..<kw {
                let ih = oh * stride - pad + i, iw = ow * stride - pad + j
                if ih >= 0 && ih < H && iw >= 0 && iw < W {
                    s += w.ptr[((co * Cg + c) * kh + i) * kw + j] * x.ptr[((b * Cin + g * Cg + c) * H + ih) * W + iw]
                }
            } } }
            out[((b * Cout + co) * Ho + oh) * Wo + ow] = s
        } } } }
        return out
    }

    func testConv2dValuesAndGradients() {
        // (Cin, Cout, k, stride, pad, groups): 1x1, 3x3 padded, strided, grouped, depthwise
        let cases = [(3, 4, 1, 1, 0, 1), (2, 3, 3, 1, 1, 1), (2, 2, 3, 2, 1, 1), (4, 2, 3, 1, 1, 2), (3, 3, 3, 2, 1, 3)]
        for (ci, co, k, s, p, g) in cases {
            let x = rng.normal([2, ci, 5, 5]), w = rng.normal([co, ci / g, k, k]), b = rng.normal([co])
            let y = Tensor.conv2d(x, w, nil, stride: s, padding: p, groups: g)
            let ref = naiveConv(x, w, stride: s, pad: p, groups: g)
            for i in 0..<ref.count { XCTAssertEqual(y.ptr[i], ref[i], accuracy: 1e-4) }
            GradCheck.check([x, w, b]) { Tensor.conv2d($0[0], $0[1], $0[2], stride: s, padding: p, groups: g) }
            GradCheck.checkJVP([x, w, b]) { Tensor.conv2d($0[0], $0[1], $0[2], stride: s, padding: p, groups: g) }
        }
    }

    func testPatchifyPixelShuffle() {
        let x = rng.normal([2, 3, 8, 8])
        let p = x.patchify(4)
        XCTAssertEqual(p.shape, [2, 4, 48])
        XCTAssertEqual(p.unpatchify(4, gridH: 2, gridW: 2).array, x.array)
        // patch (0,1) element (c=1, py=2, px=3) == x[0, 1, 2, 4+3]
        XCTAssertEqual(p.ptr[1 * 48 + 1 * 16 + 2 * 4 + 3], x.ptr[(1 * 8 + 2) * 8 + 7])
        let s = Tensor.arange(8).reshaped([1, 8, 1, 1]).pixelShuffle(2)
        XCTAssertEqual(s.shape, [1, 2, 2, 2])
        XCTAssertEqual(s.array, [0, 1, 2, 3, 4, 5, 6, 7])
        let t = Tensor.arange(16).reshaped([1, 4, 2, 2]).pixelShuffle(2)
        XCTAssertEqual(t.array, [0, 4, 1, 5, 8, 12, 9, 13, 2, 6, 3, 7, 10, 14, 11, 15])
        XCTAssertEqual(t.pixelUnshuffle(2).array, Array(0..<16).map(Float.init))
        GradCheck.check([rng.normal([1, 8, 2, 2])]) { $0[0].pixelShuffle(2) }
        GradCheck.check([rng.normal([1, 2, 4, 4])]) { $0[0].patchify(2) }
    }

    func testModuleNamesAndFreeze() {
        let vit = ViTBlock(8, heads: 2, rng: &rng)
        let names = vit.namedParameters().map { $0.0 }
        XCTAssertEqual(names, ["norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight",
                               "attn.proj.bias", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias",
                               "mlp.fc2.weight", "mlp.fc2.bias"])
        let dit = DiTBlock(8, heads: 2, condDim: 4, contextDim: 6, norm: .rmsNorm, ffn: .swiglu, rng: &rng)
        let dn = Set(dit.namedParameters().map { $0.0 })
        XCTAssertTrue(dn.contains("adaLN.weight") && dn.contains("cross.kv.weight") && dn.contains("mlp.w3.weight"))
        XCTAssertFalse(dn.contains("norm1.weight"))      // adaLN norms carry no affine parameters
        dit.setFrozen(true)
        XCTAssertTrue(dit.trainableParameters().isEmpty)
        let wn = WeightNormLinear(5, 3, rng: &rng)
        GradCheck.check([rng.normal([2, 5]), wn.v, wn.g]) { x in Tensor.linear(x[0], x[1].l2Normalized() * x[2], nil) }
        XCTAssertEqual(wn.namedParameters().map { $0.0 }, ["weight_g", "weight_v"])
    }

    func testBlocksGradcheck() {
        let vit = ViTBlock(8, heads: 2, norm: .rmsNorm, ffn: .swiglu, rng: &rng)
        let rope = RoPE.grid2D(rows: 1, cols: 3, headDim: 4)
        GradCheck.check([rng.normal([2, 3, 8])] + [vit.attn.qkv.weight, vit.mlp.swiglu!.w1.weight]) { x in
            vit(x[0], rope: rope)
        }
        let dit = DiTBlock(8, heads: 2, condDim: 4, contextDim: 6, rng: &rng)
        for p in dit.adaLN.parameters() { p.assign(rng.normal(p.shape, std: 0.3)) }
        GradCheck.check([rng.normal([2, 3, 8]), rng.normal([2, 4]), rng.normal([2, 2, 6])]) { x in
            dit(x[0], cond: x[1], context: x[2])
        }
    }

    func testTinyViTOverfitsBatch() {
        // Patch-embed -> 2 ViT blocks -> norm -> head: reconstruct a fixed batch of 4 images.
        let dim = 32, p = 4
        let embed = Linear(3 * p * p, dim, rng: &rng)
        let pos = rng.normal([1, 4, dim], std: 0.02).requiringGrad()
        let blocks = (0..<2).map { _ in ViTBlock(dim, heads: 2, rng: &rng) }
        let norm = LayerNorm(dim)
        let head = Linear(dim, 3 * p * p, rng: &rng)
        let params = [embed.parameters(), [pos], blocks.flatMap { $0.parameters() }, norm.parameters(), head.parameters()]
            .flatMap { $0 }
        let opt = AdamW(params, lr: 3e-3, weightDecay: 0)
        let images = rng.uniform([4, 3, 8, 8], -1, 1)
        let target = images.patchify(p)
        var first: Float = 0, last: Float = 0
        for step in 0..<150 {
            var h = embed(target) + pos
            for b in blocks { h = b(h) }
            let loss = Tensor.mseLoss(head(norm(h)), target)
            for q in params { q.zeroGrad() }
            loss.backward()
            opt.step()
            if step == 0 { first = loss.item }
            last = loss.item
        }
        XCTAssertLessThan(last, 0.01 * first, "loss \(first) -> \(last)")
        XCTAssertLessThan(last, 0.005)
    }
}

final class BatchNormTests: XCTestCase {
    func testBatchNormTrainAndEval() {
        var rng = RNG(seed: 8)
        let bn = BatchNorm2d(3)
        bn.training = true
        let x = rng.normal([4, 3, 2, 2], mean: 2, std: 3)
        let y = bn(x)
        // per-channel mean 0, biased variance 1 in training mode
        for c in 0..<3 {
            var s: Float = 0, q: Float = 0
            for b in 0..<4 { for i in 0..<4 { let v = y.ptr[(b * 3 + c) * 4 + i]; s += v; q += v * v } }
            XCTAssertEqual(s / 16, 0, accuracy: 1e-4); XCTAssertEqual(q / 16, 1, accuracy: 1e-2)
        }
        XCTAssertNotEqual(bn.runningMean.ptr[0], 0)
        GradCheck.check([x, bn.weight, bn.bias]) { v in bn(v[0]) }   // v[1], v[2] are bn's own parameters
        bn.training = false
        bn.runningMean.assign(Tensor([1, 2, 3], shape: [3])); bn.runningVar.assign(Tensor([4, 4, 4], shape: [3]))
        let e = bn(Tensor.full([1, 3, 1, 1], 5))
        XCTAssertEqual(e.array[0], 2, accuracy: 1e-4)      // (5 - 1) / 2
        XCTAssertEqual(e.array[2], 1, accuracy: 1e-4)      // (5 - 3) / 2
        XCTAssertEqual(bn.namedParameters().map { $0.0 }, ["weight", "bias", "running_mean", "running_var"])
    }
}
