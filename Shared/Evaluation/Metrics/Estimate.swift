import Datasets
import Foundation

/// A measured value with its spread: the point estimate on the whole sample and a 95 %
/// percentile interval from a bootstrap (or from repeats, see the producer).
public struct Estimate: Codable, Sendable, Equatable {
    public var value: Double
    /// 2.5th percentile.
    public var low: Double
    /// 97.5th percentile.
    public var high: Double
    /// Standard deviation of the bootstrap replicates.
    public var std: Double
    /// Bootstrap replicates (or repeats) behind the interval.
    public var replicates: Int

    public init(value: Double, low: Double, high: Double, std: Double, replicates: Int) {
        self.value = value; self.low = low; self.high = high; self.std = std; self.replicates = replicates
    }

    /// "0.912 [0.899, 0.925]" with `digits` decimals.
    public func formatted(_ digits: Int = 3) -> String {
        String(format: "%.\(digits)f [%.\(digits)f, %.\(digits)f]", value, low, high)
    }

    /// Point value plus the percentile interval and std of `replicates` (which need not include it).
    public static func from(value: Double, replicates r: [Double]) -> Estimate {
        guard !r.isEmpty else { return Estimate(value: value, low: value, high: value, std: 0, replicates: 0) }
        let s = r.sorted()
        func q(_ p: Double) -> Double {
            let x = p * Double(s.count - 1), i = Int(x.rounded(.down)), f = x - Double(i)
            return i + 1 < s.count ? s[i] * (1 - f) + s[i + 1] * f : s[i]
        }
        let mean = r.reduce(0, +) / Double(r.count)
        let v = r.count > 1 ? r.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(r.count - 1) : 0
        return Estimate(value: value, low: q(0.025), high: q(0.975), std: v.squareRoot(), replicates: r.count)
    }
}

/// Percentile bootstrap (Efron 1979) of per-item scores.
public enum Bootstrap {
    /// Mean of `outcomes` (e.g. 1 = correct, 0 = wrong) with a 95 % interval from `replicates`
    /// resamples drawn with `seed`.
    public static func mean(_ outcomes: [Double], replicates: Int = 1000, seed: UInt64 = 0) -> Estimate {
        let n = outcomes.count
        guard n > 0 else { return Estimate(value: .nan, low: .nan, high: .nan, std: .nan, replicates: 0) }
        let value = outcomes.reduce(0, +) / Double(n)
        var rng = SeededRNG(seed: seed)
        let reps = (0..<max(0, replicates)).map { _ -> Double in
            var s = 0.0
            for _ in 0..<n { s += outcomes[Int(rng.next() % UInt64(n))] }
            return s / Double(n)
        }
        return Estimate.from(value: value, replicates: reps)
    }

    /// Indices of one resample of `n` items with replacement.
    public static func resample(_ n: Int, rng: inout SeededRNG) -> [Int] {
        (0..<n).map { _ in Int(rng.next() % UInt64(n)) }
    }
}
