import Foundation

/// The seed-aggregated view of a `DecodeExperiment.Outcome` the report renders: per decoder and
/// task a `SeedStatistic` of any figure, the mean accuracy-throughput curves and the operating
/// point where speed is compared at matched quality.
public struct DecodeSummary {
    public let outcome: DecodeExperiment.Outcome

    public init(_ outcome: DecodeExperiment.Outcome) { self.outcome = outcome }

    /// The results of `decoder` on `task`, one per seed that measured it.
    public func results(_ decoder: String, _ task: String) -> [EvaluationResult] {
        outcome.runs.compactMap { r in r.main.first { $0.decoder == decoder && $0.task == task } }
    }

    /// Decoders in table order (as measured on the first seed).
    public var decoders: [String] {
        var names: [String] = []
        for r in outcome.runs.first?.main ?? [] where !names.contains(r.decoder) { names.append(r.decoder) }
        return names
    }

    /// A figure of the `results` over seeds; accuracies (`binomial`) carry their test-set SE.
    public static func stat(_ results: [EvaluationResult], binomial: Bool = false,
                            _ metric: (EvaluationResult) -> Double) -> SeedStatistic? {
        guard let first = results.first else { return nil }
        return SeedStatistic(results.map(metric), binomialOver: binomial ? first.examples : nil)
    }

    /// Exact match of `decoder` on `task` over seeds.
    public func accuracy(_ decoder: String, _ task: String) -> SeedStatistic? {
        Self.stat(results(decoder, task), binomial: true, \.exactMatch)
    }

    /// A figure of `decoder` on `task` over seeds.
    public func stat(_ decoder: String, _ task: String, _ metric: (EvaluationResult) -> Double) -> SeedStatistic? {
        Self.stat(results(decoder, task), metric)
    }

    /// The per-seed ratio `metric(a) / metric(b)` of paired results (same seed).
    public static func ratio(_ a: [EvaluationResult], _ b: [EvaluationResult], _ metric: (EvaluationResult) -> Double) -> SeedStatistic? {
        let r = zip(a, b).map { metric($1) > 0 ? metric($0) / metric($1) : 0 }
        return r.isEmpty ? nil : SeedStatistic(r)
    }

    /// One threshold of a decoder's curve over seeds.
    public struct CurvePoint {
        public var threshold: Float
        public var results: [EvaluationResult]
        public var accuracy: SeedStatistic
        public var tokensPerSecond: SeedStatistic
        public var tokensPerForward: SeedStatistic
    }

    /// The exact-match tasks measured along curves (arithmetic first).
    public var curveTasks: [String] {
        var names: [String] = []
        for p in outcome.runs.first?.curves ?? [] where !names.contains(p.result.task) { names.append(p.result.task) }
        return names.isEmpty ? ["arithmetic"] : names
    }

    /// `decoder`'s curve on `task` over the plan's thresholds (AR: its one point, threshold 0).
    public func curve(_ decoder: String, task: String = "arithmetic") -> [CurvePoint] {
        let thresholds = decoder == DecodeExperiment.arDecoder ? [Float(0)] : outcome.plan.thresholdSweep
        return thresholds.compactMap { tau in
            let rs = decoder == DecodeExperiment.arDecoder ? results(decoder, task)
                : outcome.runs.compactMap { $0.curves.first { $0.decoder == decoder && $0.threshold == tau && $0.result.task == task }?.result }
            guard let acc = Self.stat(rs, binomial: true, \.exactMatch), let tps = Self.stat(rs, \.tokensPerSecond),
                  let tpf = Self.stat(rs, \.tokensPerForward) else { return nil }
            return CurvePoint(threshold: tau, results: rs, accuracy: acc, tokensPerSecond: tps, tokensPerForward: tpf)
        }
    }

    /// How close (absolute accuracy) a curve point must come to the reference to count as matched quality.
    public static let matchedQuality = 0.02

    /// The fastest point of `curve` whose mean accuracy is within `matchedQuality` of `reference`,
    /// or (`matched` false) the most accurate point when none is.
    public static func operatingPoint(_ curve: [CurvePoint], reference: Double) -> (point: CurvePoint, matched: Bool)? {
        let within = curve.filter { $0.accuracy.mean >= reference - matchedQuality }
        if let fastest = within.max(by: { $0.tokensPerSecond.mean < $1.tokensPerSecond.mean }) { return (fastest, true) }
        return curve.max { $0.accuracy.mean < $1.accuracy.mean }.map { ($0, false) }
    }
}
