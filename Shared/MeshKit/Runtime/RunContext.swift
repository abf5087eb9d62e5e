import Foundation
import Logging
import MeshProto
import RunStore

/// What a handler knows about the run it serves: ids, deadline, cancellation, and a way
/// to report progress (published as events and recorded in the audit).
public final class RunContext: @unchecked Sendable {
    public let runID: String
    public let requestID: String
    public let service: String
    public let kind: String
    public let worker: String
    public let attempt: Int
    public let deadline: Date?
    public let logger: Logger
    /// Where checkpoints and images go (content-addressed), if the runtime has one.
    public let artifacts: ArtifactStore?
    public let store: RunStore

    private let lock = NSLock()
    private var cancelReason: String?
    private let emit: @Sendable (Latentmesh_V1_Event) async -> Void
    private let startedAt = Date()
    private var lastActivity = Date()

    public init(runID: String, requestID: String, service: String, kind: String, worker: String,
                attempt: Int, deadline: Date?, logger: Logger, store: RunStore, artifacts: ArtifactStore?,
                emit: @escaping @Sendable (Latentmesh_V1_Event) async -> Void) {
        self.runID = runID; self.requestID = requestID; self.service = service; self.kind = kind
        self.worker = worker; self.attempt = attempt; self.deadline = deadline; self.logger = logger
        self.store = store; self.artifacts = artifacts; self.emit = emit
    }

    /// Marks the run cancelled; the step loop sees it at its next `checkCancelled()`.
    public func cancel(reason: String) {
        lock.lock(); defer { lock.unlock() }
        if cancelReason == nil { cancelReason = reason }
    }

    /// Tells the runtime's stall watchdog this run is alive without publishing progress; call it
    /// from long steps that report progress rarely (progress and previews count as well).
    public func heartbeat() {
        lock.lock(); lastActivity = Date(); lock.unlock()
    }

    /// Seconds since the last progress event, preview or heartbeat (or the start).
    public var secondsSinceActivity: Double {
        lock.lock(); defer { lock.unlock() }
        return Date().timeIntervalSince(lastActivity)
    }

    public var isCancelled: Bool {
        lock.lock(); defer { lock.unlock() }
        return cancelReason != nil
    }

    /// Throws CANCELLED or DEADLINE_EXCEEDED; call between steps of long work.
    public func checkCancelled() throws {
        lock.lock(); let reason = cancelReason; lock.unlock()
        if let reason { throw ServiceError(.cancelled, "run \(runID) cancelled: \(reason)") }
        if let deadline, Date() > deadline {
            throw ServiceError(.deadlineExceeded, field: "meta.deadline_unix_ms",
                               "deadline passed \(Int(Date().timeIntervalSince(deadline) * 1000)) ms ago")
        }
    }

    /// Reports progress of step `step` of `total` with named metrics (loss terms, lr, ...).
    public func progress(step: Int, total: Int, metrics: [String: Double] = [:], itemsPerSecond: Double = 0,
                         message: String = "") async {
        heartbeat()
        var p = Latentmesh_V1_Progress()
        p.runID = runID; p.service = service; p.kind = kind
        p.step = Int64(step); p.total = Int64(total); p.metrics = metrics
        p.itemsPerS = itemsPerSecond; p.message = message
        p.unixMs = Int64(Date().timeIntervalSince1970 * 1000)
        var e = Latentmesh_V1_Event(); e.progress = p
        await emit(e)
        let json = Self.progressJSON(step: step, total: total, metrics: metrics, itemsPerSecond: itemsPerSecond,
                                     message: message)
        do { try store.appendEvent(RunEvent(runID: runID, type: "progress", payloadJSON: json)) }
        catch { logger.warning("could not record progress event: \(error)") }
    }

    /// Publishes a small preview image (PNG bytes) for watchers.
    public func preview(step: Int, png: Data, caption: String = "") async {
        heartbeat()
        var p = Latentmesh_V1_Preview()
        p.runID = runID; p.step = Int64(step); p.png = png; p.caption = caption
        var e = Latentmesh_V1_Event(); e.preview = p
        await emit(e)
    }

    public var elapsed: TimeInterval { Date().timeIntervalSince(startedAt) }

    static func progressJSON(step: Int, total: Int, metrics: [String: Double], itemsPerSecond: Double,
                             message: String) -> String {
        var obj: [String: Any] = ["step": step, "total": total, "items_per_s": itemsPerSecond]
        if !message.isEmpty { obj["message"] = message }
        var m: [String: Double] = [:]
        for (k, v) in metrics where v.isFinite { m[k] = v }
        obj["metrics"] = m
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
