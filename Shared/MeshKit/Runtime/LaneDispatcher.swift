import Foundation

/// Runs the deliveries of a service's urgent and normal work queues through `PriorityLanes`:
/// the one place where `RequestMeta.priority` turns into order of service.
///
/// A slot is held from the start of a delivery until it is settled (ack or nack), like the
/// broker's prefetch: a run the stall watchdog hands back frees its slot even while its handler
/// is still wedged.
final class LaneDispatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var lanes: PriorityLanes<Delivery>
    private let body: @Sendable (Delivery) async -> Void

    init(capacity: Int, body: @escaping @Sendable (Delivery) async -> Void) {
        lanes = PriorityLanes(capacity: capacity)
        self.body = body
    }

    /// A delivery from the queue of `lane`: starts it now or when a slot frees (urgent first).
    func submit(_ delivery: Delivery, lane: PriorityLanes<Delivery>.Lane) {
        let start = lock.withLock { lanes.arrive(delivery, lane: lane) }
        start.forEach(launch)
    }

    /// Hands every waiting delivery back to the broker (graceful shutdown).
    func requeueWaiting() async {
        for d in lock.withLock({ lanes.takeWaiting() }) { try? await d.nack(requeue: true) }
    }

    private func launch(_ delivery: Delivery) {
        let once = SettleOnce()
        let release: @Sendable () -> Void = { [self] in
            guard once.claim() else { return }
            let next = lock.withLock { lanes.finish() }
            next.forEach(launch)
        }
        let tracked = Delivery(body: delivery.body, properties: delivery.properties, exchange: delivery.exchange,
                               routingKey: delivery.routingKey, redelivered: delivery.redelivered,
                               deliveryCount: delivery.deliveryCount) { outcome in
            defer { release() }
            switch outcome {
            case .ack: try await delivery.ack()
            case .nack(let requeue): try await delivery.nack(requeue: requeue)
            }
        }
        Task { await body(tracked) }
    }
}
