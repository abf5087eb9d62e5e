import Foundation
import MeshProto

/// Every replica answers: a roll call is published on the events exchange (`rollcall.<service>`
/// or `rollcall.all`); each worker has its own exclusive subscription, so every replica — not only
/// the one a work queue would pick — replies with its `ServiceDescription` to the caller's reply
/// queue. Read-only and outside the audit (no run is recorded). `meshctl describe` lists replicas with it.
public enum RollCall {
    /// The keys a runtime of `service` listens on.
    public static func bindingKeys(service: String) -> [String] { ["rollcall.\(service)", "rollcall.all"] }
    /// Where a roll call of `service` (nil = every service) is published.
    public static func routingKey(service: String?) -> String { "rollcall.\(service ?? "all")" }
}

extension ServiceRuntime {
    /// Answers roll calls with this worker's description.
    func answerRollCalls() async throws -> ConsumerHandle {
        try await transport.subscribe(bindingKeys: RollCall.bindingKeys(service: definition.name)) { [weak self] delivery in
            guard let self, let replyTo = delivery.properties.replyTo, !self.state.isShuttingDown,
                  let body = try? self.describe().serializedData() else { return }
            do {
                try await self.transport.publish(exchange: "", routingKey: replyTo, body: body,
                                                 properties: MessageProperties(correlationID: delivery.properties.correlationID))
            } catch {
                self.logger.debug("roll call reply to \(replyTo) failed: \(error)")
            }
        }
    }
}

extension MeshClient {
    /// The descriptions of every running replica of `service` (nil = every service), one per
    /// (service, worker), sorted. Waits until no new reply came for `quiet`, at most `limit`.
    public func rollCall(service: String? = nil, quiet: Duration = .milliseconds(500),
                         limit: Duration = .seconds(5)) async throws -> [Latentmesh_V1_ServiceDescription] {
        final class Replies: @unchecked Sendable {
            let lock = NSLock()
            var items: [String: Latentmesh_V1_ServiceDescription] = [:]
            var last = ContinuousClock.now
        }
        let replies = Replies(), id = UUID().uuidString.lowercased()
        let queue = "latentmesh.rollcall.\(id)"
        let handle = try await transport.consumeReplies(queue: queue) { delivery in
            guard delivery.properties.correlationID == id,
                  let d = try? Latentmesh_V1_ServiceDescription(serializedBytes: delivery.body) else { return }
            replies.lock.withLock { replies.items["\(d.service)/\(d.worker)"] = d; replies.last = .now }
        }
        try await transport.publish(exchange: MeshTopology.eventsExchange, routingKey: RollCall.routingKey(service: service),
                                    body: Data(), properties: MessageProperties(correlationID: id, replyTo: queue))
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            try await Task.sleep(for: .milliseconds(50))
            let (n, last) = replies.lock.withLock { (replies.items.count, replies.last) }
            if n > 0 && ContinuousClock.now - last >= quiet { break }
        }
        await handle.cancel()
        return replies.lock.withLock { replies.items.sorted { $0.key < $1.key }.map(\.value) }
    }
}
