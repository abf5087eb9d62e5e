import Glibc

// Reductions (sum/mean/max over axes) and (log-)softmax.

extension Tensor {
    /// Splits shape around `axis` into (outer, n, inner).
    @inline(__always) func split3(_ axis: Int) -> (Int, Int, Int) {
        let a = normAxis(axis)
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        return (outer, shape[a], inner)
    }

    /// Untaped sum over one axis keeping it (size 1).
    func rawSum(axis a: Int) -> Tensor {
        let (outer, n, inner) = split3(a)
        var s = shape; s[a] = 1
        let o = Tensor(zeros: s)
        let ip = ptr, op = o.ptr
        if outer == 1 && inner >= 64 {
            // Column sums of one [n, inner] block (e.g. bias gradients): split the columns.
            parallelRange(inner, cost: n) { st, e in
                for k in 0..<n {
                    let src = ip + k * inner
                    for j in st..<e { op[j] += src[j] }
                }
            }
            return o
        }
        parallelRange(outer, cost: n * inner) { st, e in
            for b in st..<e {
                let dst = op + b * inner
                for k in 0..<n {
                    let src = ip + (b * n + k) * inner
                    for j in 0..<inner { dst[j] += src[j] }
                }
            }
        }
        return o
    }

    /// Sum over `axes` (all if empty); `keepDims` keeps reduced axes as size 1.
    public func sum(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
        let ax = axes.isEmpty ? Array(0..<rank) : axes.map { normAxis($0) }
        var r = self.detached()
        for a in Set(ax).sorted() { r = r.rawSum(axis: a) }
        var outShape = shape
        for a in ax { outShape[a] = 1 }
        let keptShape = outShape
        if !keepDims { outShape = shape.enumerated().filter { !ax.contains($0.offset) }.map { $0.element } }
        let out = r.reshaped(outShape)
        let inShape = shape
        return Tensor.record(out, [self], backward: { [self] g in
            self.accumulateGrad(g.reshaped(keptShape).expand(inShape))
        }, tangent: { t in t[0]!.sum(axes: axes, keepDims: keepDims) }, op: "sum")
    }
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Mean over `axes` (all if empty).
    public func mean(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
        let ax = axes.isEmpty ? Array(0..<rank) : axes.map { normAxis($0) }
        let n = Set(ax).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(n))
    }
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Max over one axis (gradient goes to the first arg-max).
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normAxis(axis)
        let (outer, n, inner) = split3(a)
        var ks = shape; ks[a] = 1
        let o = Tensor(uninitialized: ks)
        var arg = [Int](repeating: 0, count: outer * inner)
        for b in 0..<outer {
            for j in 0..<inner {
                var best = -Float.infinity, bi = 0
                for k in 0..<n { let v = ptr[(b * n + k) * inner + j]; if v > best { best = v; bi = k } }
                o.ptr[b * inner + j] = best; arg[b * inner + j] = bi
            }
        }
        var os = ks
        if !keepDims { os.remove(at: a) }
        let out = o.reshaped(os)
        let inShape = shape
        return Tensor.record(out, [self], backward: { [self] g in
            let d = Tensor(zeros: inShape)
            for b in 0..<outer { for j in 0..<inner {
                d.ptr[(b * n + arg[b * inner + j]) * inner + j] = g.ptr[b * inner + j]
            } }
            self.accumulateGrad(d)
        }, tangent: { t in
            let tt = t[0]!, d = Tensor(uninitialized: os)
            for b in 0..<outer { for j in 0..<inner {
                d.ptr[b * inner + j] = tt.ptr[(b * n + arg[b * inner + j]) * inner + j]
            } }
            return d
        }, op: "max")
    }

    /// Index of the maximum along the last axis for every row (not differentiable).
    public func argmax() -> [Int] {
        let n = shape.last ?? 1, rows = count / Swift.max(n, 1)
        return (0..<rows).map { r in
            var best = -Float.infinity, bi = 0
            for j in 0..<n where ptr[r * n + j] > best { best = ptr[r * n + j]; bi = j }
            return bi
        }
    }

    /// Softmax along `axis` (default last).
    public func softmax(axis: Int = -1) -> Tensor {
        let a = normAxis(axis)
        if a != rank - 1 { return transposed(a, rank - 1).softmax().transposed(a, rank - 1) }
        let n = shape[a], rows = count / Swift.max(n, 1)
        let out = Tensor(uninitialized: shape)
        Softmax.rows(ptr, out.ptr, rows, n)
        let yd = out.detached()
        return Tensor.record(out, [self], backward: { [self] g in
            self.accumulateGrad(Softmax.backward(yd, g))
        }, tangent: { t in Softmax.backward(yd, t[0]!) }, op: "softmax")
    }

    /// Log-softmax along `axis` (default last).
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = normAxis(axis)
        if a != rank - 1 { return transposed(a, rank - 1).logSoftmax().transposed(a, rank - 1) }
        let n = shape[a], rows = count / Swift.max(n, 1)
        let out = Tensor(uninitialized: shape)
        let ip = ptr, op = out.ptr
        parallelRange(rows, cost: n * 4) { s, e in
            for r in s..<e {
                let x = ip + r * n, y = op + r * n
                var m = -Float.infinity
                for j in 0..<n { m = Swift.max(m, x[j]) }
                var z: Float = 0
                for j in 0..<n { z += expf(x[j] - m) }
                let lz = m + logf(z)
                for j in 0..<n { y[j] = x[j] - lz }
            }
        }
        let yd = out.detached()
        let back: (Tensor) -> Tensor = { g in
            // dx = g - softmax * sum(g)
            let d = Tensor(uninitialized: g.shape)
            for r in 0..<rows {
                let gp = g.ptr + r * n, yp = yd.ptr + r * n, dp = d.ptr + r * n
                var s: Float = 0
                for j in 0..<n { s += gp[j] }
                for j in 0..<n { dp[j] = gp[j] - expf(yp[j]) * s }
            }
            return d
        }
        let fwd: (Tensor) -> Tensor = { t in
            // J t = t - sum(softmax * t)
            let d = Tensor(uninitialized: t.shape)
            for r in 0..<rows {
                let tp = t.ptr + r * n, yp = yd.ptr + r * n, dp = d.ptr + r * n
                var s: Float = 0
                for j in 0..<n { s += expf(yp[j]) * tp[j] }
                for j in 0..<n { dp[j] = tp[j] - s }
            }
            return d
        }
        return Tensor.record(out, [self], backward: { [self] g in self.accumulateGrad(back(g)) },
                             tangent: { t in fwd(t[0]!) }, op: "logSoftmax")
    }
}

enum Softmax {
    /// Row-wise softmax of [rows, n] (may be in place: x == y).
    static func rows(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ n: Int) {
        parallelRange(rows, cost: n * 4) { s, e in
            for r in s..<e { row(x + r * n, y + r * n, n) }
        }
    }
    @inline(__always) static func row(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let m = n > 0 ? Kernels.maxValue(x, n) : 0
        if m == -Float.infinity { for j in 0..<n { y[j] = 0 }; return }   // fully masked row
        for j in 0..<n { y[j] = Kernels.expFast(x[j] - m) }     // vectorises (no reduction in the loop)
        let inv = 1 / Kernels.sum(y, n)
        for j in 0..<n { y[j] *= inv }
    }
    /// dx = y * (g - sum(g * y)) row-wise over the last axis.
    static func backward(_ y: Tensor, _ g: Tensor) -> Tensor {
        let n = y.shape.last ?? 1, rows = y.count / Swift.max(n, 1)
        let d = Tensor(uninitialized: y.shape)
        let yp = y.ptr, gp = g.ptr, dp = d.ptr
        parallelRange(rows, cost: n * 2) { s, e in
            for r in s..<e {
                let yr = yp + r * n, gr = gp + r * n, dr = dp + r * n
                let dot = Kernels.dot(yr, gr, n)
                for j in 0..<n { dr[j] = yr[j] * (gr[j] - dot) }
            }
        }
        return d
    }
}
