import Glibc

/// Raw-buffer kernels (vectorised by the compiler in release builds; parallel over 2 workers
/// for large buffers).
enum Kernels {
    typealias P = UnsafeMutablePointer<Float>

    @inline(__always) static func add(_ a: P, _ b: P, _ o: P, _ n: Int) {
        parallelRange(n) { s, e in for i in s..<e { o[i] = a[i] + b[i] } }
    }
    @inline(__always) static func sub(_ a: P, _ b: P, _ o: P, _ n: Int) {
        parallelRange(n) { s, e in for i in s..<e { o[i] = a[i] - b[i] } }
    }
    @inline(__always) static func mul(_ a: P, _ b: P, _ o: P, _ n: Int) {
        parallelRange(n) { s, e in for i in s..<e { o[i] = a[i] * b[i] } }
    }
    @inline(__always) static func div(_ a: P, _ b: P, _ o: P, _ n: Int) {
        parallelRange(n) { s, e in for i in s..<e { o[i] = a[i] / b[i] } }
    }
    /// o = a * s
    @inline(__always) static func scale(_ a: P, _ s: Float, _ o: P, _ n: Int) {
        parallelRange(n) { st, e in for i in st..<e { o[i] = a[i] * s } }
    }
    /// o += a * s
    @inline(__always) static func axpy(_ a: P, _ s: Float, _ o: P, _ n: Int) {
        parallelRange(n) { st, e in for i in st..<e { o[i] += a[i] * s } }
    }
    @inline(__always) static func map(_ a: P, _ o: P, _ n: Int, _ f: (Float) -> Float) {
        parallelRange(n, cost: 4) { s, e in for i in s..<e { o[i] = f(a[i]) } }
    }
    @inline(__always) static func map2(_ a: P, _ b: P, _ o: P, _ n: Int, _ f: (Float, Float) -> Float) {
        parallelRange(n, cost: 4) { s, e in for i in s..<e { o[i] = f(a[i], b[i]) } }
    }
    @inline(__always) static func map3(_ a: P, _ b: P, _ c: P, _ o: P, _ n: Int,
                                       _ f: (Float, Float, Float) -> Float) {
        parallelRange(n, cost: 4) { s, e in for i in s..<e { o[i] = f(a[i], b[i], c[i]) } }
    }
    /// Sum of n floats with 8 independent lanes (vectorised; order differs from a serial sum).
    @inline(__always) static func sum(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        let raw = UnsafeRawPointer(a)
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n { acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
        var s = acc.sum()
        while i < n { s += a[i]; i += 1 }
        return s
    }
    /// Dot product with 8 lanes.
    @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            acc += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                 * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }
    /// Sum of squared deviations from `m`.
    @inline(__always) static func sumSqDev(_ a: UnsafePointer<Float>, _ m: Float, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a)
        let mv = SIMD8<Float>(repeating: m)
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let d = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - mv
            acc += d * d
            i += 8
        }
        var s = acc.sum()
        while i < n { let d = a[i] - m; s += d * d; i += 1 }
        return s
    }
    /// Maximum of n floats (n >= 1).
    @inline(__always) static func maxValue(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        let raw = UnsafeRawPointer(a)
        var i = 0
        var m = -Float.infinity
        if n >= 8 {
            var acc = SIMD8<Float>(repeating: -.infinity)
            while i + 8 <= n { acc = pointwiseMax(acc, raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)); i += 8 }
            m = acc.max()
        }
        while i < n { m = Swift.max(m, a[i]); i += 1 }
        return m
    }

    /// erf approximation (Abramowitz–Stegun 7.1.26 refined; |err| < 2e-7), branch-light.
    @inline(__always) static func erf(_ x: Float) -> Float {
        let ax = abs(x)
        let t = 1 / (1 + 0.3275911 * ax)
        let y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
                     + 0.254829592) * t * expf(-ax * ax)
        return x < 0 ? -y : y
    }
}

extension Kernels {
    /// exp(x) with a Cephes-style degree-6 polynomial (rel. error ~2e-7), branch-free so loops vectorise.
    @inline(__always) static func expFast(_ x0: Float) -> Float {
        let x = Swift.min(Swift.max(x0, -87.0), 88.0)
        // Round to nearest with the 1.5*2^23 trick: t's low mantissa bits hold the integer n.
        let t = x * 1.44269504088896341 + 12582912
        let n = t - 12582912
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        let r2 = r * r
        let p = ((((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r + 4.1665795894e-2) * r
                   + 1.6666665459e-1) * r + 5.0000001201e-1) * r2) + r + 1
        let bits = (t.bitPattern &- 0x4B40_0000 &+ 127) << 23
        return p * Float(bitPattern: bits)
    }
    /// erf via Abramowitz–Stegun 7.1.26 with the fast exp (|err| < 3e-7).
    @inline(__always) static func erfFast(_ x: Float) -> Float { erfFast(x, expNegSquare: expFast(-x * x)) }
    /// erf(x) given exp(-x²) (shared with callers that also need the Gaussian density).
    @inline(__always) static func erfFast(_ x: Float, expNegSquare e: Float) -> Float {
        let ax = Swift.abs(x)
        let t = 1 / (1 + 0.3275911 * ax)
        let y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
                     + 0.254829592) * t * e
        return x < 0 ? -y : y
    }
}

/// A pointwise function with its derivative from (x, y = f(x)); static so kernels specialise and vectorise.
protocol PointwiseFn {
    static var name: StaticString { get }
    static func f(_ x: Float) -> Float
    static func df(_ x: Float, _ y: Float) -> Float
}

enum ExpFn: PointwiseFn {
    static let name: StaticString = "exp"
    @inline(__always) static func f(_ x: Float) -> Float { expf(x) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { y }
}
enum LogFn: PointwiseFn {
    static let name: StaticString = "log"
    @inline(__always) static func f(_ x: Float) -> Float { logf(x) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { 1 / x }
}
enum SqrtFn: PointwiseFn {
    static let name: StaticString = "sqrt"
    @inline(__always) static func f(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { 0.5 / y }
}
enum RsqrtFn: PointwiseFn {
    static let name: StaticString = "rsqrt"
    @inline(__always) static func f(_ x: Float) -> Float { 1 / x.squareRoot() }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { -0.5 * y / x }
}
enum SquareFn: PointwiseFn {
    static let name: StaticString = "square"
    @inline(__always) static func f(_ x: Float) -> Float { x * x }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { 2 * x }
}
enum AbsFn: PointwiseFn {
    static let name: StaticString = "abs"
    @inline(__always) static func f(_ x: Float) -> Float { Swift.abs(x) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}
enum TanhFn: PointwiseFn {
    static let name: StaticString = "tanh"
    @inline(__always) static func f(_ x: Float) -> Float {
        let e = Kernels.expFast(-2 * Swift.abs(x)); let t = (1 - e) / (1 + e); return x < 0 ? -t : t
    }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}
enum SigmoidFn: PointwiseFn {
    static let name: StaticString = "sigmoid"
    @inline(__always) static func f(_ x: Float) -> Float { 1 / (1 + Kernels.expFast(-x)) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
}
enum ReluFn: PointwiseFn {
    static let name: StaticString = "relu"
    @inline(__always) static func f(_ x: Float) -> Float { Swift.max(x, 0) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : 0 }
}
enum SiluFn: PointwiseFn {
    static let name: StaticString = "silu"
    @inline(__always) static func f(_ x: Float) -> Float { x / (1 + Kernels.expFast(-x)) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float {
        let s = 1 / (1 + Kernels.expFast(-x)); return s * (1 + x * (1 - s))
    }
}
enum GeluFn: PointwiseFn {
    static let name: StaticString = "gelu"
    @inline(__always) static func f(_ x: Float) -> Float { 0.5 * x * (1 + Kernels.erfFast(x * 0.70710678)) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float {
        // Φ(x) + x φ(x); exp(-x²/2) serves both the erf and the density.
        let e = Kernels.expFast(-0.5 * x * x)
        return 0.5 * (1 + Kernels.erfFast(x * 0.70710678, expNegSquare: e)) + x * 0.39894228 * e
    }
}
enum GeluTanhFn: PointwiseFn {
    static let name: StaticString = "geluTanh"
    @inline(__always) static func f(_ x: Float) -> Float {
        0.5 * x * (1 + TanhFn.f(0.7978845608 * (x + 0.044715 * x * x * x)))
    }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float {
        let th = TanhFn.f(0.7978845608 * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * 0.7978845608 * (1 + 3 * 0.044715 * x * x)
    }
}
enum SinFn: PointwiseFn {
    static let name: StaticString = "sin"
    @inline(__always) static func f(_ x: Float) -> Float { sinf(x) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { cosf(x) }
}
enum CosFn: PointwiseFn {
    static let name: StaticString = "cos"
    @inline(__always) static func f(_ x: Float) -> Float { cosf(x) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { -sinf(x) }
}
enum SoftplusFn: PointwiseFn {
    static let name: StaticString = "softplus"
    @inline(__always) static func f(_ x: Float) -> Float { Swift.max(x, 0) + log1pf(expf(-Swift.abs(x))) }
    @inline(__always) static func df(_ x: Float, _ y: Float) -> Float { 1 / (1 + Kernels.expFast(-x)) }
}
