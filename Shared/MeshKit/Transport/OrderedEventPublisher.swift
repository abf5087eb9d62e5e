import Foundation
import MeshProto

/// Publishes a runtime's best-effort run events (progress, previews) in the order they were
/// emitted, on one background task, so a handler's step loop never waits for the broker's
/// publisher confirm (over RabbitMQ one confirm per sampler step added ~10 ms per step).
/// Events are transient and watchers also read progress from the audit, so when more than
/// `capacity` events are waiting the oldest are dropped; `finish()` publishes what is left.
final class OrderedEventPublisher: Sendable {
    private let continuation: AsyncStream<Latentmesh_V1_Event>.Continuation
    private let worker: Task<Void, Never>

    init(bus: EventBus, capacity: Int = 4096) {
        let (stream, continuation) = AsyncStream<Latentmesh_V1_Event>.makeStream(bufferingPolicy: .bufferingNewest(capacity))
        self.continuation = continuation
        worker = Task {
            for await event in stream { try? await bus.publish(event) }
        }
    }

    /// Queues `event` behind the ones emitted before it; returns at once.
    func enqueue(_ event: Latentmesh_V1_Event) {
        continuation.yield(event)
    }

    /// Publishes every queued event, then stops.
    func finish() async {
        continuation.finish()
        await worker.value
    }
}
