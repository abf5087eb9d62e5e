import Glibc

// Fused normalisations over the last axis: LayerNorm, RMSNorm, L2-normalise.

extension Tensor {
    /// LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * weight + bias.
    /// x [..., D], weight/bias [D] (optional).
    public static func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        normCore(x, weight: weight, bias: bias, eps: eps, centered: true, op: "layerNorm")
    }

    /// RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * weight. x [..., D], weight [D].
    public static func rmsNorm(_ x: Tensor, weight: Tensor?, eps: Float = 1e-6) -> Tensor {
        normCore(x, weight: weight, bias: nil, eps: eps, centered: false, op: "rmsNorm")
    }

    static func normCore(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float, centered: Bool,
                         op: StaticString) -> Tensor {
        let d = x.shape.last ?? 1, rows = x.count / Swift.max(d, 1)
        if let weight { precondition(weight.shape == [d], "\(op): weight shape \(weight.shape) != [\(d)]") }
        if let bias { precondition(bias.shape == [d], "\(op): bias shape \(bias.shape) != [\(d)]") }
        let xhat = Tensor(uninitialized: x.shape)
        let rstd = Tensor(uninitialized: [rows])
        let out = Tensor(uninitialized: x.shape)
        let xp = x.ptr, hp = xhat.ptr, rp = rstd.ptr, outp = out.ptr
        let wp = weight?.ptr, bp = bias?.ptr
        parallelRange(rows, cost: d * 3) { s, e in
            for r in s..<e {
                let xr = xp + r * d, hr = hp + r * d, orow = outp + r * d
                let mean: Float = centered ? Kernels.sum(xr, d) / Float(d) : 0
                let v = Kernels.sumSqDev(xr, mean, d)
                let rs = 1 / sqrtf(v / Float(d) + eps)
                rp[r] = rs
                for j in 0..<d { hr[j] = (xr[j] - mean) * rs }
                if let wp, let bp { for j in 0..<d { orow[j] = hr[j] * wp[j] + bp[j] } }
                else if let wp { for j in 0..<d { orow[j] = hr[j] * wp[j] } }
                else if let bp { for j in 0..<d { orow[j] = hr[j] + bp[j] } }
                else { orow.update(from: hr, count: d) }
            }
        }
        let wd = weight?.detached()
        // dxhat -> dx for rows, given dxhat in `dh` (overwritten with dx).
        let backRows: (Tensor) -> Void = { dh in
            let dp = dh.ptr, hp = xhat.ptr, rp = rstd.ptr
            parallelRange(rows, cost: d * 3) { s, e in
                for r in s..<e {
                    let g = dp + r * d, h = hp + r * d
                    let m1: Float = centered ? Kernels.sum(g, d) / Float(d) : 0
                    let m2 = Kernels.dot(g, h, d) / Float(d)
                    let rs = rp[r]
                    for j in 0..<d { g[j] = rs * (g[j] - m1 - h[j] * m2) }
                }
            }
        }
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        return record(out, inputs, backward: { g in
            if x.requiresGrad {
                let dh = Tensor(uninitialized: x.shape)
                if let wd {
                    let gp = g.ptr, dp = dh.ptr, w = wd.ptr
                    parallelRange(rows, cost: d) { s, e in
                        for r in s..<e { for j in 0..<d { dp[r * d + j] = gp[r * d + j] * w[j] } }
                    }
                } else { dh.assign(g) }
                backRows(dh)
                x.accumulateGrad(dh)
            }
            if let weight, weight.requiresGrad {
                let dw = Tensor(zeros: [d])
                let gp = g.ptr, hp = xhat.ptr, wp = dw.ptr
                parallelRange(d, cost: rows) { s, e in
                    for r in 0..<rows {
                        let gr = gp + r * d, h = hp + r * d
                        for j in s..<e { wp[j] += gr[j] * h[j] }
                    }
                }
                weight.accumulateGrad(dw)
            }
            if let bias, bias.requiresGrad {
                bias.accumulateGrad(g.reshaped([rows, d]).rawSum(axis: 0).reshaped([d]))
            }
        }, tangent: { t in
            var th: Tensor? = nil
            if let tx = t[0] { let c = tx.copy(); backRows(c); th = c }
            var ty: Tensor? = nil
            if let th { ty = wd.map { th * $0 } ?? th }
            var k = 1
            if weight != nil { if let tw = t[k] { ty = tsum(ty, xhat * tw, out.shape) }; k += 1 }
            if bias != nil, let tb = t[k] { ty = tsum(ty, tb, out.shape) }
            return ty
        }, op: op)
    }

    /// x / max(||x||_2, eps) over the last axis.
    public func l2Normalized(eps: Float = 1e-12) -> Tensor {
        let d = shape.last ?? 1, rows = count / Swift.max(d, 1)
        let out = Tensor(uninitialized: shape)
        let norms = Tensor(uninitialized: [rows])
        for r in 0..<rows {
            let x = ptr + r * d
            var s: Float = 0
            for j in 0..<d { s += x[j] * x[j] }
            let n = Swift.max(sqrtf(s), eps)
            norms.ptr[r] = n
            for j in 0..<d { out.ptr[r * d + j] = x[j] / n }
        }
        let yd = out.detached()
        let back: (Tensor) -> Tensor = { g in
            let dx = Tensor(uninitialized: g.shape)
            for r in 0..<rows {
                let gr = g.ptr + r * d, y = yd.ptr + r * d, o = dx.ptr + r * d
                let n = norms.ptr[r]
                if n <= eps { for j in 0..<d { o[j] = gr[j] / n }; continue }
                var dot: Float = 0
                for j in 0..<d { dot += gr[j] * y[j] }
                for j in 0..<d { o[j] = (gr[j] - y[j] * dot) / n }
            }
            return dx
        }
        return Tensor.record(out, [self], backward: { [self] g in self.accumulateGrad(back(g)) },
                             tangent: { t in back(t[0]!) }, op: "l2Normalize")
    }
}
