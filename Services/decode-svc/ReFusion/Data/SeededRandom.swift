/// A small deterministic random generator (SplitMix64) for data generation and
/// training-input sampling, so every split and batch is reproducible from a seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    /// The generator's whole state, for checkpoints (`init(rawState:)` continues the stream).
    public var rawState: UInt64 { state }

    /// A generator continuing from a `rawState`.
    public init(rawState: UInt64) { state = rawState }

    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Stateless hash of a value (used to assign examples to splits).
    public static func hash(_ value: UInt64) -> UInt64 {
        var g = SeededRandom(seed: value)
        return g.next()
    }
}
