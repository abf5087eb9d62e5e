import Foundation
import RunStore

/// The one progress follower: renders a run's progress (bar, step/total, items/s, ETA, loss
/// terms) from its `progress` audit events, so embedded (SQLite) and stack (PostgreSQL) mode
/// look the same. Follows a run by request id (a call still in flight) or run id (`watch`).
final class ProgressFollower: @unchecked Sendable {
    enum Target { case requestID(String), runID(String) }

    let store: RunStore
    let target: Target
    let output: (String) -> Void
    /// Shows the queue position and ETA while the run has not started (nil: nothing shown).
    let queue: QueueWatch?
    private var seen = 0
    private var runID: String?

    init(store: RunStore, target: Target, queue: QueueWatch? = nil, output: @escaping (String) -> Void = {
        FileHandle.standardOutput.write(Data($0.utf8))
    }) {
        self.store = store; self.target = target; self.queue = queue; self.output = output
        if case .runID(let id) = target { runID = id }
    }

    /// Renders new progress events; returns the run once it is terminal.
    @discardableResult
    func poll() throws -> RunRecord? {
        if runID == nil, case .requestID(let r) = target { runID = try store.run(requestID: r)?.runID }
        guard let id = runID else { return nil }
        let events = try store.events(runID: id, limit: 100_000)
        for e in events.dropFirst(seen) where e.type == "progress" {
            if let o = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any] {
                output("\r" + Self.line(step: o["step"] as? Int ?? 0, total: o["total"] as? Int ?? 0,
                                        metrics: o["metrics"] as? [String: Double] ?? [:],
                                        rate: o["items_per_s"] as? Double ?? 0))
            }
        }
        seen = events.count
        guard let run = try store.run(id: id), run.status.isTerminal else { return nil }
        return run
    }

    /// Follows until the run ends (or `deadline` passes, or the task is cancelled); prints its end.
    func follow(until deadline: Date? = nil, interval: Double = 0.3) async throws -> RunRecord? {
        while !Task.isCancelled {
            if let run = try poll() { output("\n" + Self.ending(run) + "\n"); return run }
            if let queue, try isWaiting(), let e = try? await queue.current() { output("\r" + e.line + "   ") }
            if let deadline, Date() > deadline { throw ValidationFailure("timed out following the run") }
            try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
        }
        return nil
    }

    /// True while the run has not started: not in the audit yet, or requeued (status queued).
    func isWaiting() throws -> Bool {
        if runID == nil, case .requestID(let r) = target { runID = try store.run(requestID: r)?.runID }
        guard let id = runID, let run = try store.run(id: id) else { return true }
        return run.status == .queued
    }

    /// `[#####.....] 120/500 31.2/s eta 12s loss=0.8 loss_rec=0.3`: loss terms first, at most 5.
    static func line(step: Int, total: Int, metrics: [String: Double], rate: Double) -> String {
        let width = 30
        let frac = total > 0 ? min(1, Double(step) / Double(total)) : 0
        let filled = Int(frac * Double(width))
        var parts = ["[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]",
                     "\(step)/\(total)"]
        if rate > 0 { parts.append(String(format: "%.1f/s", rate)) }
        if let eta = metrics["eta_s"], eta.isFinite { parts.append("eta " + duration(eta)) }
        let losses = metrics.filter { $0.key.hasPrefix("loss") }.sorted { $0.key < $1.key }
        parts += losses.prefix(5).map { "\($0.key)=\(String(format: "%.4g", $0.value))" }
        return parts.joined(separator: " ")
    }

    static func duration(_ s: Double) -> String {
        s >= 3600 ? String(format: "%dh%02dm", Int(s) / 3600, Int(s) % 3600 / 60)
            : s >= 60 ? String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) : String(format: "%.0fs", s)
    }

    static func ending(_ r: RunRecord) -> String {
        var s = "run \(r.runID) \(r.status.rawValue)"
        if let d = r.durationMs { s += String(format: " in %.1f s", d / 1000) }
        if let e = r.error { s += ": \(e.code) \(e.field) \(e.message)" }
        return s
    }
}
