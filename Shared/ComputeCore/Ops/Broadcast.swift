/// Broadcasting helpers (NumPy rules: align trailing axes; extents must match or be 1).
enum Broadcast {
    static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            precondition(da == db || da == 1 || db == 1,
                         "shapes \(a) and \(b) cannot be broadcast (axis \(i): \(da) vs \(db))")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Element strides of `s` inside `out` (0 on broadcast axes).
    static func strides(_ s: [Int], in out: [Int]) -> [Int] {
        let r = out.count
        var st = [Int](repeating: 0, count: r)
        var acc = 1
        for i in stride(from: s.count - 1, through: 0, by: -1) {
            let oi = i + (r - s.count)
            st[oi] = s[i] == 1 ? 0 : acc
            acc *= s[i]
        }
        return st
    }

    /// Merges adjacent axes whose strides are contiguous in both inputs.
    static func coalesce(_ n: [Int], _ sa: [Int], _ sb: [Int]) -> ([Int], [Int], [Int]) {
        var dims: [Int] = [], xa: [Int] = [], xb: [Int] = []
        for i in 0..<n.count where n[i] != 1 {
            if let last = dims.last, xa.last! == sa[i] * n[i], xb.last! == sb[i] * n[i] {
                _ = last
                dims[dims.count - 1] *= n[i]
                xa[xa.count - 1] = sa[i]; xb[xb.count - 1] = sb[i]
            } else {
                dims.append(n[i]); xa.append(sa[i]); xb.append(sb[i])
            }
        }
        if dims.isEmpty { return ([1], [0], [0]) }
        return (dims, xa, xb)
    }

    /// out[i] = F.f(a[ia], b[ib]) over the broadcast shape; specialised per op so loops vectorise.
    static func apply<F: BinaryFn>(_ a: Tensor, _ b: Tensor, _ fn: F.Type) -> Tensor {
        if a.shape == b.shape {
            let o = Tensor(uninitialized: a.shape)
            let ap = a.ptr, bp = b.ptr, op = o.ptr
            parallelRange(a.count) { s, e in for i in s..<e { op[i] = F.f(ap[i], bp[i]) } }
            return o
        }
        let outShape = shape(a.shape, b.shape)
        let o = Tensor(uninitialized: outShape)
        let (dims, sa, sb) = coalesce(outShape, strides(a.shape, in: outShape), strides(b.shape, in: outShape))
        let r = dims.count
        let inner = dims[r - 1], ia = sa[r - 1], ib = sb[r - 1]
        let rows = o.count / max(inner, 1)
        let ap = a.ptr, bp = b.ptr, op = o.ptr
        parallelRange(rows, cost: inner) { s, e in
            for row in s..<e {
                var rem = row, offA = 0, offB = 0
                var d = r - 2
                while d >= 0 {
                    let idx = rem % dims[d]; rem /= dims[d]
                    offA += idx * sa[d]; offB += idx * sb[d]
                    d -= 1
                }
                let o = op + row * inner
                let pa = ap + offA, pb = bp + offB
                if ia == 1 && ib == 1 {
                    for j in 0..<inner { o[j] = F.f(pa[j], pb[j]) }
                } else if ia == 1 {
                    let v = pb[0]; for j in 0..<inner { o[j] = F.f(pa[j], v) }
                } else if ib == 1 {
                    let v = pa[0]; for j in 0..<inner { o[j] = F.f(v, pb[j]) }
                } else {
                    for j in 0..<inner { o[j] = F.f(pa[j * ia], pb[j * ib]) }
                }
            }
        }
        return o
    }
}

/// A binary pointwise function (static so broadcasting kernels specialise).
protocol BinaryFn { static func f(_ a: Float, _ b: Float) -> Float }
enum AddOp: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubOp: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a - b } }
enum MulOp: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivOp: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a / b } }
enum FirstOp: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a } }
/// -a / b (gradient of a quotient w.r.t. its denominator, given a = g * out).
enum NegDivOp: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { -a / b } }
enum NonZeroOp: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a != 0 ? 1 : 0 } }

extension Tensor {
    /// Sums a broadcast gradient back down to `target` shape (reverse of broadcasting).
    public func sumTo(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        if Tensor.product(target) == count { return reshaped(target) }
        let r = rank
        precondition(target.count <= r, "sumTo: cannot reduce \(shape) to \(target)")
        let padded = [Int](repeating: 1, count: r - target.count) + target
        var axes: [Int] = []
        for i in 0..<r where padded[i] == 1 && shape[i] != 1 { axes.append(i) }
        for i in 0..<r where padded[i] != 1 {
            precondition(padded[i] == shape[i], "sumTo: cannot reduce \(shape) to \(target)")
        }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }

    /// Broadcasts to `shape` (copy); gradient sums back.
    public func expand(_ shape: [Int]) -> Tensor {
        if shape == self.shape { return self }
        let out = Broadcast.apply(self.detached(), Tensor(zeros: shape), FirstOp.self)
        precondition(out.shape == shape, "expand: \(self.shape) cannot broadcast to \(shape)")
        let inShape = self.shape
        return Tensor.record(out, [self], backward: { [self] g in self.accumulateGrad(g.sumTo(inShape)) },
                             tangent: { t in t[0]!.expand(shape) }, op: "expand")
    }
}
