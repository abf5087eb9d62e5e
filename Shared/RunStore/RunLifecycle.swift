import Foundation

/// The status state machine of one run: validates transitions, bumps `sequence` by one on
/// every status change and counts attempts. A pure value; both store backends apply it
/// under a row lock (Postgres) or a write transaction (SQLite).
///
/// Allowed transitions:
/// - `queued -> running` (a new attempt: attempts + 1)
/// - `running -> running` (restart after a crash/redelivery: attempts + 1)
/// - `running -> queued` (requeue)
/// - `running -> succeeded | failed | cancelled`
/// - `queued | running -> dead_lettered`
/// Terminal statuses (succeeded, failed, cancelled, dead_lettered) are final.
public struct RunLifecycle: Sendable, Equatable {
    public private(set) var status: RunStatus
    /// Increases by exactly one on every status change; the first recorded status has sequence 1.
    public private(set) var sequence: Int64
    /// Number of times the run entered `running`.
    public private(set) var attempts: Int

    public init(status: RunStatus, sequence: Int64, attempts: Int) {
        self.status = status; self.sequence = sequence; self.attempts = attempts
    }

    public init(_ record: RunRecord) {
        self.init(status: record.status, sequence: record.sequence, attempts: record.attempts)
    }

    /// A run first seen by a worker that starts it right away: running, sequence 1, attempt 1.
    public static func started() -> RunLifecycle {
        RunLifecycle(status: .running, sequence: 1, attempts: 1)
    }

    /// A run recorded as waiting in a queue: queued, sequence 1, no attempt yet.
    public static func queued() -> RunLifecycle {
        RunLifecycle(status: .queued, sequence: 1, attempts: 0)
    }

    /// A request rejected before it could run (unparseable): dead_lettered, sequence 1, no attempt.
    public static func rejected() -> RunLifecycle {
        RunLifecycle(status: .deadLettered, sequence: 1, attempts: 0)
    }

    /// Whether `from -> to` is an allowed transition (`running -> running` is the restart).
    public static func allows(from: RunStatus, to: RunStatus) -> Bool {
        switch (from, to) {
        case (.queued, .running), (.running, .running), (.running, .queued): return true
        case (.running, .succeeded), (.running, .failed), (.running, .cancelled): return true
        case (.queued, .deadLettered), (.running, .deadLettered): return true
        default: return false
        }
    }

    /// Moves to `next`; entering `running` counts a new attempt.
    /// Throws `RunStoreError.invalidTransition` for a transition not listed above.
    public mutating func transition(to next: RunStatus) throws {
        guard RunLifecycle.allows(from: status, to: next) else {
            throw RunStoreError.invalidTransition(from: status, to: next)
        }
        if next == .running { attempts += 1 }
        status = next
        sequence += 1
    }

    /// Restarts a run picked up again after a crash or redelivery: `queued|running -> running`.
    public mutating func restart() throws {
        try transition(to: .running)
    }

    /// The result of `transition(to:)` without mutating self.
    public func applying(_ next: RunStatus) throws -> RunLifecycle {
        var copy = self
        try copy.transition(to: next)
        return copy
    }
}
