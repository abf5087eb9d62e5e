import Foundation
import Logging

/// `MeshTransport` in memory, for the embedded mode and tests, with the AMQP transport's semantics:
/// exchanges (direct, topic, fanout) and bindings, queues with prefetch and manual acks, requeue on
/// nack(requeue: true) or when a consumer is cancelled with unacked deliveries, delivery counts, the
/// delivery limit and nack(requeue: false) dead-lettering to `latentmesh.dead`. Publishes to the work
/// exchange that reach no queue throw `publishRejected`, as the AMQP transport's mandatory publishes do.
public final class InProcessTransport: MeshTransport, @unchecked Sendable {
    public let kind = "inproc"
    private let lock = NSLock()
    private var broker = InProcessBroker()
    private var closed = false
    private let logger: Logger

    public init(logger: Logger = Logger(label: "meshkit.inproc")) {
        self.logger = logger
        broker.exchanges[MeshTopology.workExchange] = .init(type: .direct)
        broker.exchanges[MeshTopology.eventsExchange] = .init(type: .topic)
        broker.exchanges[MeshTopology.deadLetterExchange] = .init(type: .fanout)
        broker.queues[MeshTopology.deadLetterQueue] = .init()
        broker.bind(queue: MeshTopology.deadLetterQueue, exchange: MeshTopology.deadLetterExchange, key: "")
    }

    private func withBroker<T>(_ body: (inout InProcessBroker) throws -> T) throws -> T {
        try lock.withLock {
            if closed { throw TransportError.closed }
            return try body(&broker)
        }
    }

    public func declareService(_ service: String, routingKeys: [String]) async throws {
        guard !service.isEmpty else { throw TransportError.invalidArgument(field: "service", message: "must not be empty") }
        for (queue, keys) in MeshTopology.serviceQueues(service: service, routingKeys: routingKeys) {
            try await declareWorkQueue(queue, routingKeys: keys)
        }
    }

    /// Declares a work queue (delivery limit, dead-letter exchange) bound to the work exchange.
    public func declareWorkQueue(_ queue: String, routingKeys: [String]) async throws {
        try withBroker { b in
            if b.queues[queue] == nil {
                b.queues[queue] = .init(deliveryLimit: MeshTopology.deliveryLimit,
                                        deadLetterExchange: MeshTopology.deadLetterExchange)
            }
            for key in routingKeys { b.bind(queue: queue, exchange: MeshTopology.workExchange, key: key) }
        }
    }

    /// Declares a plain queue bound to `exchange` with `bindingKey` (e.g. a tap on the dead-letter exchange).
    public func declareTapQueue(_ queue: String, exchange: String, bindingKey: String) async throws {
        try withBroker { b in
            guard b.exchanges[exchange] != nil else { throw TransportError.broker("no exchange '\(exchange)'") }
            if b.queues[queue] == nil { b.queues[queue] = .init() }
            b.bind(queue: queue, exchange: exchange, key: bindingKey)
        }
    }

    /// Deletes a queue and its bindings; consumers of it stop receiving.
    public func deleteQueue(_ queue: String) async throws {
        try withBroker { b in b.deleteQueue(queue) }
    }

    public func publish(exchange: String, routingKey: String, body: Data, properties: MessageProperties) async throws {
        try MeshTopology.checkMessageSize(body)
        let targets: [String] = try withBroker { b in
            let targets = try b.route(exchange: exchange, key: routingKey)
            if targets.isEmpty && exchange == MeshTopology.workExchange {
                throw TransportError.publishRejected("unroutable: no queue is bound to exchange '\(exchange)' with key '\(routingKey)'")
            }
            let m = InProcessBroker.Message(body: body, properties: properties, exchange: exchange, routingKey: routingKey)
            for t in targets { b.queues[t]?.ready.append(m) }
            return targets
        }
        for t in targets { pump(t) }
    }

    public func consume(queue: String, prefetch: Int,
                        handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle {
        guard (1...65535).contains(prefetch) else {
            throw TransportError.invalidArgument(field: "prefetch", message: "\(prefetch) is outside 1...65535")
        }
        return try addConsumer(queue: queue, prefetch: prefetch, autoAck: false, handler: handler)
    }

    public func subscribe(bindingKeys: [String],
                          handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle {
        guard !bindingKeys.isEmpty else {
            throw TransportError.invalidArgument(field: "bindingKeys", message: "at least one binding key is required")
        }
        let name = "inproc.sub.\(UUID().uuidString.lowercased())"
        try withBroker { b in
            b.queues[name] = .init(autoDelete: true)
            for key in bindingKeys { b.bind(queue: name, exchange: MeshTopology.eventsExchange, key: key) }
        }
        return try addConsumer(queue: name, prefetch: 0, autoAck: true, handler: handler)
    }

    public func consumeReplies(queue: String,
                               handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle {
        guard !queue.isEmpty else { throw TransportError.invalidArgument(field: "queue", message: "must not be empty") }
        try withBroker { b in
            if b.queues[queue] == nil { b.queues[queue] = .init(autoDelete: true) }
        }
        return try addConsumer(queue: queue, prefetch: 0, autoAck: true, handler: handler)
    }

    private func addConsumer(queue: String, prefetch: Int, autoAck: Bool,
                             handler: @escaping @Sendable (Delivery) async -> Void) throws -> ConsumerHandle {
        var events: AsyncStream<Delivery>.Continuation? = nil
        if autoAck {
            let (stream, continuation) = AsyncStream<Delivery>.makeStream()
            events = continuation
            Task { for await d in stream { await handler(d) } }
        }
        let consumer: InProcessBroker.Consumer = try withBroker { b in
            guard b.queues[queue] != nil else { throw TransportError.queueNotFound(queue) }
            let c = InProcessBroker.Consumer(id: b.nextConsumerID, queue: queue, prefetch: prefetch, autoAck: autoAck,
                                             handler: handler, events: events)
            b.nextConsumerID += 1
            b.queues[queue]!.consumers.append(c)
            return c
        }
        pump(queue)
        return InProcessConsumerHandle(transport: self, consumer: consumer)
    }

    /// Hands ready messages to consumers with free prefetch capacity.
    private func pump(_ queue: String) {
        let batch: [(InProcessBroker.Message, InProcessBroker.Consumer, UInt64)] =
            (try? withBroker { b in b.nextDeliveries(queue: queue) }) ?? []
        for (m, c, tag) in batch {
            if c.autoAck {
                c.events?.yield(Delivery(body: m.body, properties: m.properties, exchange: m.exchange, routingKey: m.routingKey,
                                         redelivered: m.redelivered, deliveryCount: m.deliveryCount, settle: { _ in }))
                continue
            }
            let once = SettleOnce()
            let d = Delivery(body: m.body, properties: m.properties, exchange: m.exchange, routingKey: m.routingKey,
                             redelivered: m.redelivered, deliveryCount: m.deliveryCount) { [weak self] outcome in
                guard once.claim() else { return }
                self?.settle(consumer: c, tag: tag, outcome: outcome)
            }
            let handler = c.handler
            Task { await handler(d) }
        }
    }

    private func settle(consumer c: InProcessBroker.Consumer, tag: UInt64, outcome: DeliveryOutcome) {
        let queue = c.queue
        let known: Bool = (try? withBroker { b -> Bool in
            guard let m = c.unacked.removeValue(forKey: tag) else { return false }
            switch outcome {
            case .ack: break
            case .nack(requeue: true): b.requeue(m, queue: queue)
            case .nack(requeue: false): if let q = b.queues[queue] { b.deadLetter(m, from: q) }
            }
            return true
        }) ?? false
        if !known {
            TransportMetrics.staleSettle("inproc")
            logger.info("ignoring settle of a delivery its consumer no longer holds (it was requeued)",
                        metadata: ["tag": "\(tag)", "queue": "\(queue)"])
        }
        pump(queue)
        pump(MeshTopology.deadLetterQueue)
    }

    /// Removes a consumer; its unacked deliveries return to the queue (redelivered, count + 1).
    func cancel(_ c: InProcessBroker.Consumer) {
        let queue = c.queue
        lock.withLock {
            guard var q = broker.queues[queue], let i = q.consumers.firstIndex(where: { $0 === c }) else { return }
            q.consumers.remove(at: i)
            q.nextConsumer = 0
            broker.queues[queue] = q
            for (_, m) in c.unacked.sorted(by: { $0.key > $1.key }) { broker.requeue(m, queue: queue) }
            c.unacked.removeAll()
            if q.autoDelete && q.consumers.isEmpty { broker.deleteQueue(queue) }
        }
        c.events?.finish()
        pump(queue)
    }

    /// Stops new deliveries to a consumer; its unacked deliveries can still be settled.
    func stop(_ c: InProcessBroker.Consumer) {
        lock.withLock { c.stopped = true }
        pump(c.queue)
    }

    public func drain(queue: String, limit: Int) async throws -> [Delivery] {
        guard limit >= 0 else { throw TransportError.invalidArgument(field: "limit", message: "\(limit) is negative") }
        let taken: [InProcessBroker.Message] = try withBroker { b in
            guard var q = b.queues[queue] else { throw TransportError.queueNotFound(queue) }
            let n = min(limit, q.ready.count)
            let out = Array(q.ready.prefix(n))
            q.ready.removeFirst(n)
            b.queues[queue] = q
            return out
        }
        return taken.map { m in
            Delivery(body: m.body, properties: m.properties, exchange: m.exchange, routingKey: m.routingKey,
                     redelivered: m.redelivered, deliveryCount: m.deliveryCount, settle: { _ in })
        }
    }

    public func messageCount(queue: String) async throws -> Int {
        try withBroker { b in
            guard let q = b.queues[queue] else { throw TransportError.queueNotFound(queue) }
            return q.ready.count
        }
    }

    public func close() async {
        let consumers: [InProcessBroker.Consumer] = lock.withLock {
            closed = true
            return broker.queues.values.flatMap { $0.consumers }
        }
        consumers.forEach { $0.events?.finish() }
    }
}

/// Cancels one in-process consumer.
final class InProcessConsumerHandle: ConsumerHandle, @unchecked Sendable {
    private weak var transport: InProcessTransport?
    private let consumer: InProcessBroker.Consumer

    init(transport: InProcessTransport, consumer: InProcessBroker.Consumer) {
        self.transport = transport
        self.consumer = consumer
    }

    func cancel() async { transport?.cancel(consumer) }

    func stopDeliveries() async { transport?.stop(consumer) }
}
