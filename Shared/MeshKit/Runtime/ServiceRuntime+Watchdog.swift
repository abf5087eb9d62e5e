import Foundation
import Metrics
import RunStore

extension ServiceRuntime {
    /// Starts the stall watchdog (unless `stallTimeoutSeconds` is 0): a run with no progress
    /// event, preview or heartbeat for that long is cancelled, its run goes back to `queued`
    /// with a `stalled` event in the audit, and its message is requeued so another worker runs
    /// it; whatever the wedged handler returns later is discarded.
    func startWatchdog() {
        let timeout = config.stallTimeoutSeconds
        guard timeout > 0, watchdog == nil else { return }
        let interval = min(1.0, timeout / 4)
        watchdog = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                guard let self else { return }
                await self.abandonStalled(olderThan: timeout)
            }
        }
    }

    /// Abandons every in-flight run idle for longer than `timeout` seconds.
    func abandonStalled(olderThan timeout: Double) async {
        for (ctx, delivery) in state.takeStalled(olderThan: timeout) {
            let idle = ctx.secondsSinceActivity
            let reason = "stalled: no progress or heartbeat for \(Int(idle)) s (stall_timeout_s \(timeout))"
            logger.warning("run \(ctx.runID) (\(ctx.requestID)) \(reason): cancelling and requeueing it for another worker")
            ctx.cancel(reason: reason)
            let payload = (try? JSONSerialization.data(withJSONObject: [
                "worker": config.worker, "idle_s": idle, "stall_timeout_s": timeout,
            ], options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            do {
                try store.appendEvent(RunEvent(runID: ctx.runID, type: "stalled", payloadJSON: payload))
                try store.flush()
                _ = try store.updateStatus(runID: ctx.runID, to: .queued)
            } catch {
                logger.warning("could not record the stall of \(ctx.runID): \(error)")
            }
            Counter(label: "mesh_stalled_total", dimensions: [("service", definition.name)]).increment()
            try? await delivery.nack(requeue: true)
        }
    }
}
