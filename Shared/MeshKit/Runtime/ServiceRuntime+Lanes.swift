import Foundation

extension ServiceRuntime {
    /// Consumes the urgent and the normal work queue (prefetch each) into one dispatcher that
    /// runs at most `prefetch` deliveries at once, urgent ones first.
    func startConsumers() async throws -> [ConsumerHandle] {
        let dispatcher = LaneDispatcher(capacity: config.prefetch) { [weak self] delivery in
            await self?.process(delivery)
        }
        self.dispatcher = dispatcher
        var handles: [ConsumerHandle] = []
        for (queue, _) in MeshTopology.serviceQueues(service: definition.name, routingKeys: []) {
            let lane: PriorityLanes<Delivery>.Lane = queue.hasSuffix(MeshTopology.urgentSuffix) ? .urgent : .normal
            handles.append(try await transport.consume(queue: queue, prefetch: config.prefetch) { delivery in
                dispatcher.submit(delivery, lane: lane)
            })
        }
        return handles
    }
}
