import Glibc

// Broadcasting arithmetic and pointwise functions with reverse and forward rules.

extension Tensor {
    /// a + b (broadcasting).
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = Broadcast.apply(a, b, AddOp.self)
        return record(out, [a, b], backward: { g in
            a.accumulateGrad(g); b.accumulateGrad(g)
        }, tangent: { t in tsum(t[0], t[1], out.shape) }, op: "add")
    }
    /// a - b (broadcasting).
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = Broadcast.apply(a, b, SubOp.self)
        return record(out, [a, b], backward: { g in
            a.accumulateGrad(g); if b.requiresGrad { b.accumulateGrad(g.neg()) }
        }, tangent: { t in tsum(t[0], t[1].map { $0.neg() }, out.shape) }, op: "sub")
    }
    /// a * b (broadcasting).
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = Broadcast.apply(a, b, MulOp.self)
        let ad = a.detached(), bd = b.detached()
        return record(out, [a, b], backward: { g in
            if a.requiresGrad { a.accumulateGrad(Broadcast.apply(g, bd, MulOp.self)) }
            if b.requiresGrad { b.accumulateGrad(Broadcast.apply(g, ad, MulOp.self)) }
        }, tangent: { t in tsum(t[0].map { $0 * bd }, t[1].map { ad * $0 }, out.shape) }, op: "mul")
    }
    /// a / b (broadcasting).
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = Broadcast.apply(a, b, DivOp.self)
        let bd = b.detached(), od = out.detached()
        return record(out, [a, b], backward: { g in
            if a.requiresGrad { a.accumulateGrad(Broadcast.apply(g, bd, DivOp.self)) }
            if b.requiresGrad {
                let q = Broadcast.apply(g, od, MulOp.self)
                b.accumulateGrad(Broadcast.apply(q, bd, NegDivOp.self))
            }
        }, tangent: { t in
            // d(a/b) = ta/b - out*tb/b
            tsum(t[0].map { $0 / bd }, t[1].map { (od * $0 / bd).neg() }, out.shape)
        }, op: "div")
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(1, s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a.affine(1, s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(1, -s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.affine(-1, s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(s, 0) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(s, 0) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(1 / s, 0) }
    public static prefix func - (a: Tensor) -> Tensor { a.affine(-1, 0) }

    /// a * x + b elementwise.
    public func affine(_ a: Float, _ b: Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        Kernels.map(ptr, out.ptr, count) { $0 * a + b }
        return Tensor.record(out, [self], backward: { [self] g in self.accumulateGrad(g.scaled(a)) },
                             tangent: { t in t[0]!.scaled(a) }, op: "affine")
    }

    /// -x without taping (helper for gradient code).
    func neg() -> Tensor { scaled(-1) }
    /// x * s without taping (helper for gradient code).
    func scaled(_ s: Float) -> Tensor {
        let o = Tensor(uninitialized: shape); Kernels.scale(ptr, s, o.ptr, count); return o
    }

    /// Pointwise unary op with derivative expressed from (x, y=f(x)).
    @inline(__always)
    func unary(_ op: StaticString, _ f: (Float) -> Float,
               _ df: @escaping (Float, Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        Kernels.map(ptr, out.ptr, count, f)
        let xd = detached(), yd = out.detached()
        return Tensor.record(out, [self], backward: { [self] g in
            let d = Tensor(uninitialized: g.shape)
            let gp = g.ptr, xp = xd.ptr, yp = yd.ptr, dp = d.ptr
            parallelRange(g.count, cost: 4) { s, e in for i in s..<e { dp[i] = gp[i] * df(xp[i], yp[i]) } }
            self.accumulateGrad(d)
        }, tangent: { t in
            let tt = t[0]!, d = Tensor(uninitialized: tt.shape)
            for i in 0..<tt.count { d.ptr[i] = tt.ptr[i] * df(xd.ptr[i], yd.ptr[i]) }
            return d
        }, op: op)
    }

    /// Pointwise op with a statically known function (specialised, vectorised, parallel).
    func pointwise<F: PointwiseFn>(_ fn: F.Type) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let xp = ptr, yp = out.ptr
        parallelRange(count, cost: 4) { s, e in for i in s..<e { yp[i] = F.f(xp[i]) } }
        let xd = detached(), yd = out.detached()
        let deriv: (Tensor) -> Tensor = { g in
            let d = Tensor(uninitialized: g.shape)
            let gp = g.ptr, xp = xd.ptr, yp = yd.ptr, dp = d.ptr
            parallelRange(g.count, cost: 4) { s, e in for i in s..<e { dp[i] = gp[i] * F.df(xp[i], yp[i]) } }
            return d
        }
        return Tensor.record(out, [self], backward: { [self] g in self.accumulateGrad(deriv(g)) },
                             tangent: { t in deriv(t[0]!) }, op: F.name)
    }

    public func exp() -> Tensor { pointwise(ExpFn.self) }
    public func log() -> Tensor { pointwise(LogFn.self) }
    public func sqrt() -> Tensor { pointwise(SqrtFn.self) }
    public func rsqrt() -> Tensor { pointwise(RsqrtFn.self) }
    public func square() -> Tensor { pointwise(SquareFn.self) }
    public func abs() -> Tensor { pointwise(AbsFn.self) }
    public func pow(_ p: Float) -> Tensor {
        unary("pow", { powf($0, p) }, { x, _ in p * powf(x, p - 1) })
    }
    public func tanh() -> Tensor { pointwise(TanhFn.self) }
    public func sigmoid() -> Tensor { pointwise(SigmoidFn.self) }
    public func relu() -> Tensor { pointwise(ReluFn.self) }
    /// SiLU / swish: x * sigmoid(x).
    public func silu() -> Tensor { pointwise(SiluFn.self) }
    /// GELU, exact (erf) form as in PyTorch's default `nn.GELU()` (erf to 3e-7).
    public func gelu() -> Tensor { pointwise(GeluFn.self) }
    public func sin() -> Tensor { pointwise(SinFn.self) }
    public func cos() -> Tensor { pointwise(CosFn.self) }
    /// log(1 + exp(x)), numerically stable.
    public func softplus() -> Tensor { pointwise(SoftplusFn.self) }
    /// GELU, tanh approximation.
    public func geluTanh() -> Tensor { pointwise(GeluTanhFn.self) }
    /// clamp to [lo, hi] (gradient 0 outside).
    public func clamp(_ lo: Float, _ hi: Float) -> Tensor {
        unary("clamp", { Swift.min(Swift.max($0, lo), hi) }, { x, _ in (x >= lo && x <= hi) ? 1 : 0 })
    }
}

/// Sum of two optional tangents broadcast to `shape` (nil = zero).
func tsum(_ a: Tensor?, _ b: Tensor?, _ shape: [Int]) -> Tensor? {
    switch (a, b) {
    case (nil, nil): return nil
    case let (x?, nil): return x.shape == shape ? x : x.expand(shape)
    case let (nil, y?): return y.shape == shape ? y : y.expand(shape)
    case let (x?, y?): let s = x + y; return s.shape == shape ? s : s.expand(shape)
    }
}

/// In-place a += b (same count), untaped.
func addInPlace(_ a: Tensor, _ b: Tensor) {
    precondition(a.count == b.count, "addInPlace count mismatch \(a.shape) vs \(b.shape)")
    Kernels.add(a.ptr, b.ptr, a.ptr, a.count)
}

/// Free-function spellings.
public func exp(_ x: Tensor) -> Tensor { x.exp() }
public func log(_ x: Tensor) -> Tensor { x.log() }
public func sqrt(_ x: Tensor) -> Tensor { x.sqrt() }
public func tanh(_ x: Tensor) -> Tensor { x.tanh() }
