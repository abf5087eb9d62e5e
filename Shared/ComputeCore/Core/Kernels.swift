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
    @inline(__always) static func sum(_ a: P, _ n: Int) -> Float {
        var acc: Double = 0
        var i = 0
        while i + 8 <= n {
            var s: Float = 0
            for j in 0..<8 { s += a[i + j] }
            acc += Double(s); i += 8
        }
        while i < n { acc += Double(a[i]); i += 1 }
        return Float(acc)
    }
    @inline(__always) static func dot(_ a: P, _ b: P, _ n: Int) -> Float {
        var s: Float = 0
        for i in 0..<n { s += a[i] * b[i] }
        return s
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
