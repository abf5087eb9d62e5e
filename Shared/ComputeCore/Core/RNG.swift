import Glibc

/// Seeded, reproducible generator (xoshiro256** seeded through SplitMix64).
public struct RNG {
    var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func split() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = split(); s1 = split(); s2 = split(); s3 = split()
    }

    @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Next 64 random bits.
    @inline(__always) public mutating func next() -> UInt64 {
        let r = RNG.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = RNG.rotl(s3, 45)
        return r
    }

    /// Uniform in [0, 1) with 24-bit resolution.
    @inline(__always) public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }
    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * uniform() }
    /// Uniform integer in [0, n).
    public mutating func int(_ n: Int) -> Int {
        precondition(n > 0, "RNG.int: n must be > 0, got \(n)")
        return Int(next() % UInt64(n))
    }
    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = Swift.max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float(Glibc.sqrt(-2 * Glibc.log(u1)) * Glibc.cos(2 * Double.pi * u2))
    }
    /// A random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, int(i + 1)) } }
        return p
    }
    /// Independent draws from a fork of this stream (advances self).
    public mutating func fork() -> RNG { RNG(seed: next()) }

    /// Tensor of N(mean, std^2) samples.
    public mutating func normal(_ shape: [Int], mean: Float = 0, std: Float = 1) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.ptr[i] = mean + std * normal() }
        return t
    }
    /// Tensor of U[lo, hi) samples.
    public mutating func uniform(_ shape: [Int], _ lo: Float = 0, _ hi: Float = 1) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.ptr[i] = lo + (hi - lo) * uniform() }
        return t
    }
    /// Tensor of Bernoulli(p) samples (1 with probability p, else 0).
    public mutating func bernoulli(_ shape: [Int], p: Float) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.ptr[i] = uniform() < p ? 1 : 0 }
        return t
    }
}

extension Tensor {
    /// Inverted dropout: zeroes each element with probability p and scales survivors by 1/(1-p).
    /// Identity when `training` is false or p == 0.
    public func dropout(_ p: Float, rng: inout RNG, training: Bool = true) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout: p must be in [0, 1), got \(p)")
        if !training || p == 0 { return self }
        let mask = rng.bernoulli(shape, p: 1 - p)
        return self * mask.scaled(1 / (1 - p))
    }

    /// Drop-path (stochastic depth): zeroes whole samples (axis 0) with probability p,
    /// scaling kept samples by 1/(1-p). Apply to a residual branch.
    public func dropPath(_ p: Float, rng: inout RNG, training: Bool = true) -> Tensor {
        precondition(p >= 0 && p < 1, "dropPath: p must be in [0, 1), got \(p)")
        if !training || p == 0 { return self }
        var ms = [Int](repeating: 1, count: rank); ms[0] = shape[0]
        let mask = rng.bernoulli(ms, p: 1 - p)
        return self * mask.scaled(1 / (1 - p))
    }

    /// Stop-gradient: same values, no tape, no tangent.
    public func stopGradient() -> Tensor { detached() }
}
