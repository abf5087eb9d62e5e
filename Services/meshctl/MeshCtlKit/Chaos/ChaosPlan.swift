import Foundation

/// What a chaos run does: how long, how many replicas of which services, how hard the load,
/// how often a worker is SIGKILLed. The run has three phases: `before` (load, no faults),
/// `during` (load + kills + one broker restart + one database restart; lasts `seconds ×
/// (1 - before - after)` or until both restarts are done, whichever is later) and `after`
/// (load, no faults).
public struct ChaosPlan: Sendable, Codable, Equatable {
    /// Planned load time in seconds (all three phases; the fault phase may run longer).
    public var seconds: Double
    /// Service processes per service.
    public var replicas: Int
    /// Concurrent client loops (each waits for its reply or `replyTimeout`).
    public var concurrency: Int
    /// Seconds between SIGKILLs of a random worker during the fault phase.
    public var killEvery: Double
    /// Fractions of `seconds` spent before and after the fault phase.
    public var beforeFraction: Double
    public var afterFraction: Double
    /// Seconds a client loop waits for a reply before sending its next request.
    public var replyTimeout: Double
    /// Seconds to wait after the load for every confirmed request to reach a terminal run.
    public var drainTimeout: Double
    /// Steps of the tiny tokenizer / decode models trained before the load.
    public var tokenizerSteps: Int64
    public var decodeSteps: Int64
    public var seed: UInt64
    /// Services run as replicas (their work is in the request mix).
    public static let services = ["tokenizer", "decode"]

    public init(seconds: Double, replicas: Int = 2, concurrency: Int = 4, killEvery: Double = 10,
                beforeFraction: Double = 0.2, afterFraction: Double = 0.2, replyTimeout: Double = 30,
                drainTimeout: Double = 120, tokenizerSteps: Int64 = 3, decodeSteps: Int64 = 20, seed: UInt64 = 1) {
        self.seconds = seconds; self.replicas = replicas; self.concurrency = concurrency
        self.killEvery = killEvery; self.beforeFraction = beforeFraction; self.afterFraction = afterFraction
        self.replyTimeout = replyTimeout; self.drainTimeout = drainTimeout
        self.tokenizerSteps = tokenizerSteps; self.decodeSteps = decodeSteps; self.seed = seed
    }

    /// The short form run by the test command (about a minute with setup).
    public static let short = ChaosPlan(seconds: 30, concurrency: 3, killEvery: 4, replyTimeout: 20, drainTimeout: 90)
    /// The long form behind `meshctl report reliability` (docs/results/reliability.md).
    public static let long = ChaosPlan(seconds: 300, concurrency: 4, killEvery: 10)

    /// Phase of a moment `t` seconds into the load, given when the faults ended (nil: not yet).
    public func phase(at t: Double, faultsEnded: Double?) -> ChaosPhase {
        if t < faultWindow.start { return .before }
        if let end = faultsEnded, t >= end { return .after }
        return .during
    }

    /// Planned start and minimum end (seconds into the load) of the fault phase.
    public var faultWindow: (start: Double, end: Double) {
        (seconds * beforeFraction, seconds * (1 - afterFraction))
    }

    /// Seconds of load after the faults ended.
    public var afterSeconds: Double { seconds * afterFraction }
}

/// The three phases of a chaos run.
public enum ChaosPhase: String, Sendable, Codable, CaseIterable {
    case before, during, after
}
