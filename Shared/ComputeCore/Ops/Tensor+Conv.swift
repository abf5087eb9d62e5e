/// 2-D convolution (NCHW, PyTorch weight layout [Cout, Cin/groups, kh, kw]) by im2col + GEMM;
/// depthwise (groups == Cin == Cout) uses a direct kernel.
extension Tensor {
    public static func conv2d(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, stride: Int = 1, padding: Int = 0,
                              groups: Int = 1) -> Tensor {
        precondition(x.rank == 4 && w.rank == 4, "conv2d: x must be [B,C,H,W], w [Cout,Cin/g,kh,kw]; got \(x.shape), \(w.shape)")
        let (B, Cin, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (Cout, Cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        precondition(groups >= 1 && Cin % groups == 0 && Cout % groups == 0 && Cg == Cin / groups,
                     "conv2d: groups \(groups) incompatible with Cin \(Cin), Cout \(Cout), weight \(w.shape)")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride must be >= 1 and padding >= 0")
        if let bias { precondition(bias.shape == [Cout], "conv2d: bias \(bias.shape) != [\(Cout)]") }
        let Ho = (H + 2 * padding - kh) / stride + 1, Wo = (W + 2 * padding - kw) / stride + 1
        precondition(Ho > 0 && Wo > 0, "conv2d: kernel \(kh)x\(kw) larger than padded input \(H)x\(W)")
        let geo = ConvGeometry(B: B, Cin: Cin, H: H, W: W, Cout: Cout, kh: kh, kw: kw, stride: stride, pad: padding,
                               groups: groups, Ho: Ho, Wo: Wo)
        let out = Tensor(uninitialized: [B, Cout, Ho, Wo])
        geo.forward(x.ptr, w.ptr, bias?.ptr, out.ptr)
        let xd = x.detached(), wd = w.detached()
        var inputs = [x, w]
        if let bias { inputs.append(bias) }
        return record(out, inputs, backward: { g in
            let dx = x.requiresGrad ? Tensor(zeros: x.shape) : nil
            let dw = w.requiresGrad ? Tensor(zeros: w.shape) : nil
            geo.backward(xd.ptr, wd.ptr, g.ptr, dx?.ptr, dw?.ptr)
            if let dx { x.accumulateGrad(dx) }
            if let dw { w.accumulateGrad(dw) }
            if let bias, bias.requiresGrad {
                bias.accumulateGrad(g.reshaped([B, Cout, Ho * Wo]).sum(axes: [0, 2]))
            }
        }, tangent: { t in
            var r: Tensor? = nil
            if let tx = t[0] { r = conv2d(tx, wd, nil, stride: stride, padding: padding, groups: groups) }
            if let tw = t[1] { r = tsum(r, conv2d(xd, tw, nil, stride: stride, padding: padding, groups: groups), out.shape) }
            if t.count > 2, let tb = t[2] { r = tsum(r, tb.reshaped([1, Cout, 1, 1]), out.shape) }
            return r
        }, op: "conv2d")
    }

    /// [B, C, H, W] -> [B, (H/p)(W/p), C*p*p]; each patch vector ordered (c, py, px) like a
    /// flattened Conv2d(kernel = stride = p) weight.
    public func patchify(_ p: Int) -> Tensor {
        precondition(rank == 4 && shape[2] % p == 0 && shape[3] % p == 0, "patchify: \(shape) not divisible by patch \(p)")
        let (B, C, H, W) = (shape[0], shape[1], shape[2], shape[3])
        return reshaped([B, C, H / p, p, W / p, p]).permuted([0, 2, 4, 1, 3, 5]).reshaped([B, (H / p) * (W / p), C * p * p])
    }

    /// Inverse of `patchify`: [B, gh*gw, C*p*p] -> [B, C, gh*p, gw*p].
    public func unpatchify(_ p: Int, gridH: Int, gridW: Int) -> Tensor {
        precondition(rank == 3 && shape[1] == gridH * gridW && shape[2] % (p * p) == 0,
                     "unpatchify: \(shape) vs grid \(gridH)x\(gridW), patch \(p)")
        let (B, C) = (shape[0], shape[2] / (p * p))
        return reshaped([B, gridH, gridW, C, p, p]).permuted([0, 3, 1, 4, 2, 5]).reshaped([B, C, gridH * p, gridW * p])
    }

    /// PixelShuffle(r): [B, C*r*r, H, W] -> [B, C, H*r, W*r] (PyTorch channel order).
    public func pixelShuffle(_ r: Int) -> Tensor {
        precondition(rank == 4 && shape[1] % (r * r) == 0, "pixelShuffle: channels of \(shape) not divisible by \(r * r)")
        let (B, C, H, W) = (shape[0], shape[1] / (r * r), shape[2], shape[3])
        return reshaped([B, C, r, r, H, W]).permuted([0, 1, 4, 2, 5, 3]).reshaped([B, C, H * r, W * r])
    }

    /// PixelUnshuffle(r): inverse of `pixelShuffle`.
    public func pixelUnshuffle(_ r: Int) -> Tensor {
        precondition(rank == 4 && shape[2] % r == 0 && shape[3] % r == 0, "pixelUnshuffle: \(shape) not divisible by \(r)")
        let (B, C, H, W) = (shape[0], shape[1], shape[2] / r, shape[3] / r)
        return reshaped([B, C, H, r, W, r]).permuted([0, 1, 3, 5, 2, 4]).reshaped([B, C * r * r, H, W])
    }
}

struct ConvGeometry {
    let B: Int, Cin: Int, H: Int, W: Int, Cout: Int, kh: Int, kw: Int, stride: Int, pad: Int, groups: Int, Ho: Int, Wo: Int
    var Cg: Int { Cin / groups }
    var Cog: Int { Cout / groups }
    var K: Int { Cg * kh * kw }
    var L: Int { Ho * Wo }
    var isPointwise: Bool { kh == 1 && kw == 1 && stride == 1 && pad == 0 }
    var isDepthwise: Bool { groups == Cin && Cg == 1 && Cog == 1 }
    typealias P = UnsafeMutablePointer<Float>

    /// col [K, L] from channels [c0, c0+Cg) of image b.
    func im2col(_ x: P, _ col: P) {
        for c in 0..<Cg { for i in 0..<kh { for j in 0..<kw {
            let row = col + ((c * kh + i) * kw + j) * L
            let img = x + c * H * W
            for oh in 0..<Ho {
                let ih = oh * stride - pad + i
                let dst = row + oh * Wo
                if ih < 0 || ih >= H { dst.update(repeating: 0, count: Wo); continue }
                for ow in 0..<Wo {
                    let iw = ow * stride - pad + j
                    dst[ow] = (iw >= 0 && iw < W) ? img[ih * W + iw] : 0
                }
            }
        } } }
    }

    func col2im(_ col: P, _ dx: P) {
        for c in 0..<Cg { for i in 0..<kh { for j in 0..<kw {
            let row = col + ((c * kh + i) * kw + j) * L
            let img = dx + c * H * W
            for oh in 0..<Ho {
                let ih = oh * stride - pad + i
                if ih < 0 || ih >= H { continue }
                for ow in 0..<Wo {
                    let iw = ow * stride - pad + j
                    if iw >= 0 && iw < W { img[ih * W + iw] += row[oh * Wo + ow] }
                }
            }
        } } }
    }

    func forward(_ x: P, _ w: P, _ bias: P?, _ out: P) {
        if isDepthwise { depthwiseForward(x, w, bias, out); return }
        let col = isPointwise ? nil : Tensor(uninitialized: [K, L])
        for b in 0..<B {
            for g in 0..<groups {
                let xin = x + (b * Cin + g * Cg) * H * W
                let o = out + (b * Cout + g * Cog) * L
                var beta: Float = 0
                if let bias {
                    for co in 0..<Cog { (o + co * L).update(repeating: bias[g * Cog + co], count: L) }
                    beta = 1
                }
                let src: P
                if let col { im2col(xin, col.ptr); src = col.ptr } else { src = xin }
                BLAS.gemm(false, false, Cog, L, K, 1, w + g * Cog * K, K, src, L, beta, o, L)
            }
        }
    }

    func backward(_ x: P, _ w: P, _ g: P, _ dx: P?, _ dw: P?) {
        if isDepthwise { depthwiseBackward(x, w, g, dx, dw); return }
        let col = isPointwise ? nil : Tensor(uninitialized: [K, L])
        let dcol = (dx != nil && !isPointwise) ? Tensor(uninitialized: [K, L]) : nil
        for b in 0..<B {
            for gi in 0..<groups {
                let xin = x + (b * Cin + gi * Cg) * H * W
                let go = g + (b * Cout + gi * Cog) * L
                let wg = w + gi * Cog * K
                if let dw {
                    let src: P
                    if let col { im2col(xin, col.ptr); src = col.ptr } else { src = xin }
                    BLAS.gemm(false, true, Cog, K, L, 1, go, L, src, L, 1, dw + gi * Cog * K, K)
                }
                if let dx {
                    let dxin = dx + (b * Cin + gi * Cg) * H * W
                    if let dcol {
                        BLAS.gemm(true, false, K, L, Cog, 1, wg, K, go, L, 0, dcol.ptr, L)
                        col2im(dcol.ptr, dxin)
                    } else {
                        BLAS.gemm(true, false, K, L, Cog, 1, wg, K, go, L, 1, dxin, L)
                    }
                }
            }
        }
    }

    func depthwiseForward(_ x: P, _ w: P, _ bias: P?, _ out: P) {
        parallelRange(B * Cin, cost: L * kh * kw) { s, e in
            for bc in s..<e {
                let c = bc % Cin
                let img = x + bc * H * W, o = out + bc * L, k = w + c * kh * kw
                let b0 = bias?[c] ?? 0
                for oh in 0..<Ho { for ow in 0..<Wo {
                    var acc = b0
                    for i in 0..<kh {
                        let ih = oh * stride - pad + i
                        if ih < 0 || ih >= H { continue }
                        for j in 0..<kw {
                            let iw = ow * stride - pad + j
                            if iw >= 0 && iw < W { acc += k[i * kw + j] * img[ih * W + iw] }
                        }
                    }
                    o[oh * Wo + ow] = acc
                } }
            }
        }
    }

    func depthwiseBackward(_ x: P, _ w: P, _ g: P, _ dx: P?, _ dw: P?) {
        for bc in 0..<(B * Cin) {
            let c = bc % Cin
            let img = x + bc * H * W, go = g + bc * L, k = w + c * kh * kw
            let dimg = dx.map { $0 + bc * H * W }, dk = dw.map { $0 + c * kh * kw }
            for oh in 0..<Ho { for ow in 0..<Wo {
                let gv = go[oh * Wo + ow]
                for i in 0..<kh {
                    let ih = oh * stride - pad + i
                    if ih < 0 || ih >= H { continue }
                    for j in 0..<kw {
                        let iw = ow * stride - pad + j
                        if iw < 0 || iw >= W { continue }
                        dimg?[ih * W + iw] += k[i * kw + j] * gv
                        dk?[i * kw + j] += img[ih * W + iw] * gv
                    }
                }
            } }
        }
    }
}
