import Foundation
import MeshKit
import RunStore

/// The queue phase of the progress follower: while a request waits in the broker, how many are
/// ahead of it (broker depth of its lane and the lanes drained first, minus the service's runs
/// started since) and when it should start (the audit's recent durations; `QueueEstimate`).
final class QueueWatch: @unchecked Sendable {
    let transport: MeshTransport
    let store: RunStore
    let service: String
    let lane: PriorityLanes<Int>.Lane
    private var estimate: QueueEstimate?
    private var since = Date()

    /// How many recent successful runs give the duration median.
    static let recentRuns = 20

    init(transport: MeshTransport, store: RunStore, service: String, priority: Int32) {
        self.transport = transport; self.store = store; self.service = service
        lane = .init(priority: priority)
    }

    /// The current estimate (the first call reads the broker depth and the audit).
    func current() async throws -> QueueEstimate {
        if var e = estimate {
            let started = try store.listRuns(RunQuery(service: service, limit: 500))
                .filter { ($0.startedAt ?? .distantPast) >= since }.count
            e.startsSince = started
            estimate = e
            return e
        }
        since = Date()
        var ahead = try await transport.messageCount(queue: MeshTopology.urgentQueue(service: service))
        if lane == .normal { ahead += try await transport.messageCount(queue: MeshTopology.workQueue(service: service)) }
        let busy = try store.listRuns(RunQuery(service: service, status: .running, limit: 500)).count
        let recent = try store.listRuns(RunQuery(service: service, status: .succeeded, limit: Self.recentRuns))
            .compactMap(\.durationMs)
        let e = QueueEstimate(aheadAtStart: ahead, workers: busy, secondsPerRequest: QueueEstimate.median(recent).map { $0 / 1000 })
        estimate = e
        return e
    }
}
