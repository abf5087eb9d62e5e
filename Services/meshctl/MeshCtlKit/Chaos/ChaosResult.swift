import Foundation
import RunStore

/// The checked outcome of a chaos run: the client's ledger against the audit.
///
/// - confirmed: requests whose publish the broker confirmed (the client may count on them).
/// - completed: confirmed requests whose run ended `succeeded`.
/// - lost: confirmed requests with no terminal run after the drain.
/// - failed: confirmed requests whose run ended in another terminal state (a valid request
///   should never fail; dead-lettered counts here).
/// - duplicated: confirmed requests answered by two different runs, or twice as freshly run
///   (`from_store` false) — i.e. the work was recorded as done more than once.
/// - nonTerminal / stuckRunning: runs of this chaos run (any request) not in a terminal state / in `running`.
public struct ChaosResult: Codable, Sendable {
    public struct Latency: Codable, Sendable {
        public var n: Int
        public var p50Ms: Double?
        public var p99Ms: Double?
    }

    public var plan: ChaosPlan
    /// Seconds of load in all, and when the fault phase started and ended (seconds into the load).
    public var seconds: Double
    public var faultPhase: [Double]
    public var sent: Int
    public var confirmed: Int
    public var completed: Int
    public var lost: Int
    public var failed: Int
    public var duplicated: Int
    public var retried: Int
    public var nonTerminal: Int
    public var stuckRunning: Int
    public var kills: Int
    public var brokerRestarts: Int
    public var databaseRestarts: Int
    public var perKind: [String: Int]
    public var latency: [String: Latency]
    public var faults: [String]
    /// Up to ten request ids per problem, for a failing check.
    public var examples: [String: [String]]

    /// Whether the run met the bar: nothing lost, failed, duplicated or left non-terminal.
    public var passed: Bool { lost == 0 && failed == 0 && duplicated == 0 && nonTerminal == 0 && confirmed > 0 }

    static func check(plan: ChaosPlan, tag: String, ledger: [ChaosLedger.Entry], store: RunStore,
                      kills: Int, brokerRestarts: Int, databaseRestarts: Int, faults: [String],
                      faultPhase: [Double], seconds: Double) throws -> ChaosResult {
        var r = ChaosResult(plan: plan, seconds: seconds, faultPhase: faultPhase, sent: ledger.count, confirmed: 0, completed: 0, lost: 0,
                            failed: 0, duplicated: 0, retried: 0, nonTerminal: 0, stuckRunning: 0, kills: kills,
                            brokerRestarts: brokerRestarts, databaseRestarts: databaseRestarts, perKind: [:],
                            latency: [:], faults: faults, examples: [:])
        func example(_ key: String, _ id: String) {
            if r.examples[key, default: []].count < 10 { r.examples[key, default: []].append(id) }
        }
        for e in ledger where e.confirmed {
            r.confirmed += 1
            r.perKind[e.kind, default: 0] += 1
            guard let run = try store.run(requestID: e.requestID) else { r.lost += 1; example("lost", e.requestID); continue }
            if run.attempts > 1 { r.retried += 1 }
            if !run.status.isTerminal { r.lost += 1; example("lost", e.requestID) }
            else if run.status == .succeeded { r.completed += 1 }
            else { r.failed += 1; example("failed", "\(e.requestID) \(run.status.rawValue) \(run.error?.message ?? "")") }
            let runIDs = Set(e.replies.map(\.runID))
            let fresh = e.replies.filter { !$0.fromStore }.count
            if runIDs.count > 1 || fresh > 1 || (runIDs.first.map { $0 != run.runID } ?? false) {
                r.duplicated += 1; example("duplicated", e.requestID)
            }
        }
        // Every run of this chaos run (setup, unconfirmed publishes included) must be terminal.
        for service in ChaosPlan.services {
            for run in try store.listRuns(RunQuery(service: service, limit: 100_000)) where run.requestID.hasPrefix(tag) {
                if !run.status.isTerminal { r.nonTerminal += 1; example("non_terminal", "\(run.requestID) \(run.status.rawValue)") }
                if run.status == .running { r.stuckRunning += 1 }
            }
        }
        for phase in ChaosPhase.allCases {
            let ms = ledger.filter { $0.phase == phase }.compactMap(\.latency).map { $0 * 1000 }.sorted()
            func q(_ p: Double) -> Double? {
                ms.isEmpty ? nil : ms[min(ms.count - 1, max(0, Int((p * Double(ms.count)).rounded(.up)) - 1))]
            }
            r.latency[phase.rawValue] = Latency(n: ms.count, p50Ms: q(0.5), p99Ms: q(0.99))
        }
        return r
    }

    /// One line for logs and tests.
    public var summary: String {
        "sent \(sent), confirmed \(confirmed), completed \(completed), lost \(lost), failed \(failed), duplicated \(duplicated), "
            + "non-terminal \(nonTerminal) (running \(stuckRunning)), retried \(retried); kills \(kills), broker restarts \(brokerRestarts), "
            + "database restarts \(databaseRestarts)"
    }
}
