import Foundation
import RunStore

extension ServiceRuntime {
    /// Longest a second publish of a running request waits for that run (seconds) when neither
    /// its deadline nor the stall timeout is shorter.
    static let attachWaitCap: Double = 3600

    /// Answers a second publish of a request whose run is still queued or running elsewhere:
    /// polls the audit (100 ms growing to 1 s) until the run is terminal and sends its stored
    /// reply (`from_store`), so a client retry never runs the work twice. Gives up with a
    /// retryable UNAVAILABLE at the request's deadline or after the stall timeout.
    func replyWhenFinished(_ delivery: Delivery, running: RunRecord, deadlineUnixMs: Int64) async {
        var limit = config.stallTimeoutSeconds > 0 ? config.stallTimeoutSeconds : Self.attachWaitCap
        if deadlineUnixMs > 0 { limit = min(limit, Double(deadlineUnixMs) / 1000 - Date().timeIntervalSince1970) }
        let until = Date().addingTimeInterval(max(0, limit))
        var delay = 0.1
        while Date() < until, !state.isShuttingDown {
            if let record = try? store.run(id: running.runID), record.status.isTerminal {
                do { try await publishReply(to: delivery, record: record, fromStore: true) } catch {
                    logger.warning("could not send the outcome of \(running.runID) to a retried publish: \(error)")
                }
                return
            }
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            delay = min(delay * 1.5, 1)
        }
        var gaveUp = running
        gaveUp.status = .failed
        gaveUp.error = RunError(code: ServiceError.Code.unavailable.rawValue, field: "meta.request_id",
                                message: "request \(running.requestID) is still in progress as run \(running.runID) on \(running.worker); retry later")
        try? await publishReply(to: delivery, record: gaveUp, fromStore: false)
    }
}
