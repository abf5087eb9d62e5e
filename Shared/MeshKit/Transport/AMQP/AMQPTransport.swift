import CRabbitMQ
import Foundation
import Logging

/// `MeshTransport` over RabbitMQ (AMQP 0-9-1) with rabbitmq-c.
///
/// Connections: one control connection (publisher confirms on channel 1, management on channel 2) plus
/// one connection per consumer or subscription, each owned by its own thread (rabbitmq-c is not
/// thread-safe). Every connection reconnects with exponential backoff (capped at 5 s) after the broker
/// goes away and re-declares the topology; consumers and subscriptions are restored. A publish that
/// returned without throwing was confirmed by the broker.
public final class AMQPTransport: MeshTransport, @unchecked Sendable {
    public let kind = "amqp"
    public let url: AMQPURL
    public let name: String
    /// How long a publish may wait for a confirm, including an outage in between (seconds).
    public let publishTimeout: TimeInterval
    /// How long management calls (declare, drain, counts) wait for the broker (seconds).
    public let operationTimeout: TimeInterval
    /// Exchanges published with the mandatory flag: an unroutable publish there throws `publishRejected`.
    public let mandatoryExchanges: Set<String>

    private let logger: Logger
    private let registry = AMQPTopologyRegistry()
    private let control: AMQPControlLink
    private let lock = NSLock()
    private var consumers: [AMQPConsumerLink] = []
    private var closed = false
    private var consumerCounter = 0

    /// Connects lazily to `url` (amqp://user:pass@host:port/vhost); throws on a malformed URL.
    /// - Parameters:
    ///   - name: names the threads and log lines of this transport (e.g. the service name).
    ///   - publishTimeout: seconds a publish may wait for its confirm (through reconnects).
    public init(url: String, name: String, logger: Logger = Logger(label: "meshkit.amqp"),
                publishTimeout: TimeInterval = 30, operationTimeout: TimeInterval = 30,
                mandatoryExchanges: Set<String> = [MeshTopology.workExchange]) throws {
        self.url = try AMQPURL(url)
        self.name = name
        self.logger = logger
        self.publishTimeout = publishTimeout
        self.operationTimeout = operationTimeout
        self.mandatoryExchanges = mandatoryExchanges
        control = AMQPControlLink(url: self.url, registry: registry, logger: logger)
        control.start(name: name)
    }

    deinit { control.stop() }

    private func checkOpen() throws {
        try lock.withLock { if closed { throw TransportError.closed } }
    }

    public func declareService(_ service: String, routingKeys: [String]) async throws {
        guard !service.isEmpty else { throw TransportError.invalidArgument(field: "service", message: "must not be empty") }
        registry.add(service: service, routingKeys: routingKeys)
        try await perform("declare service \(service)") { s in
            try s.declareTopology(services: [service: routingKeys], channel: AMQPControlLink.managementChannel)
        }
    }

    public func publish(exchange: String, routingKey: String, body: Data, properties: MessageProperties) async throws {
        try checkOpen()
        try MeshTopology.checkMessageSize(body)
        let request = { (done: @escaping (Result<Void, Error>) -> Void) in
            AMQPControlLink.PublishRequest(exchange: exchange, routingKey: routingKey, body: body, properties: properties,
                                           mandatory: self.mandatoryExchanges.contains(exchange),
                                           deadline: Date().addingTimeInterval(self.publishTimeout), done: done)
        }
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            control.inbox.push(.publish(request { c.resume(with: $0) }))
        }
    }

    public func consume(queue: String, prefetch: Int,
                        handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle {
        guard (1...65535).contains(prefetch) else {
            throw TransportError.invalidArgument(field: "prefetch", message: "\(prefetch) is outside 1...65535")
        }
        return try await startConsumer(.queue(queue, prefetch: prefetch), label: queue, handler: handler)
    }

    public func subscribe(bindingKeys: [String],
                          handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle {
        guard !bindingKeys.isEmpty else {
            throw TransportError.invalidArgument(field: "bindingKeys", message: "at least one binding key is required")
        }
        return try await startConsumer(.subscription(bindingKeys: bindingKeys), label: "events", handler: handler)
    }

    public func consumeReplies(queue: String,
                               handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle {
        guard !queue.isEmpty else { throw TransportError.invalidArgument(field: "queue", message: "must not be empty") }
        return try await startConsumer(.replies(queue: queue), label: "replies", handler: handler)
    }

    /// Declares a non-durable, auto-delete queue bound to `exchange` with `bindingKey` (e.g. a tap on the
    /// dead-letter exchange for tooling and tests). Delete it with `deleteQueue` when done.
    public func declareTapQueue(_ queue: String, exchange: String, bindingKey: String) async throws {
        try await perform("declare tap \(queue)") { s in
            try s.declareTopology(services: [:], channel: AMQPControlLink.managementChannel)
            try s.declareQueue(queue, durable: false, arguments: AMQPTable(), channel: AMQPControlLink.managementChannel)
            try s.bindQueue(queue, exchange: exchange, key: bindingKey, channel: AMQPControlLink.managementChannel)
        }
    }

    private func startConsumer(_ source: AMQPConsumerLink.Source, label: String,
                               handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle {
        try checkOpen()
        let link = AMQPConsumerLink(url: url, source: source, registry: registry, logger: logger, handler: handler)
        let n = lock.withLock { consumerCounter += 1; return consumerCounter }
        try await link.start(name: "\(name)-\(label)-\(n)")
        lock.withLock { consumers.append(link) }
        return link
    }

    public func drain(queue: String, limit: Int) async throws -> [Delivery] {
        guard limit >= 0 else { throw TransportError.invalidArgument(field: "limit", message: "\(limit) is negative") }
        return try await perform("drain \(queue)") { s in
            var out: [Delivery] = []
            while out.count < limit, let got = try s.get(queue: queue, channel: AMQPControlLink.managementChannel) {
                try s.ack(channel: AMQPControlLink.managementChannel, tag: got.tag)
                out.append(got.delivery.delivery(settle: { _ in }))
            }
            return out
        }
    }

    public func messageCount(queue: String) async throws -> Int {
        try await perform("count \(queue)") { s in
            try s.declareQueue(queue, passive: true, channel: AMQPControlLink.managementChannel).messages
        }
    }

    /// Deletes a queue (tests and tooling); missing queues are fine.
    public func deleteQueue(_ queue: String) async throws {
        try await perform("delete \(queue)") { s in
            try s.deleteQueue(queue, channel: AMQPControlLink.managementChannel)
        }
    }

    /// Declares a durable quorum queue with the mesh's work-queue arguments, bound to the work exchange
    /// with `routingKeys` — like `declareService` but with a free queue name (tests, tooling).
    public func declareWorkQueue(_ queue: String, routingKeys: [String]) async throws {
        try await perform("declare queue \(queue)") { s in
            try s.declareTopology(services: [:], channel: AMQPControlLink.managementChannel)
            try s.declareQueue(queue, arguments: AMQPTable.workQueueArguments, channel: AMQPControlLink.managementChannel)
            for key in routingKeys {
                try s.bindQueue(queue, exchange: MeshTopology.workExchange, key: key, channel: AMQPControlLink.managementChannel)
            }
        }
    }

    /// How many times the control connection connected (1 + reconnects).
    public var connectCount: Int { control.connectCount }

    /// The control connection and every consumer's connection are up.
    public var isConnected: Bool {
        let links = lock.withLock { consumers }
        return control.isConnected && links.allSatisfy(\.isConnectedOrCancelled)
    }

    public func close() async {
        let links: [AMQPConsumerLink] = lock.withLock {
            closed = true
            let l = consumers
            consumers.removeAll()
            return l
        }
        for link in links { await link.cancel() }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [control] in
                control.stop()
                c.resume()
            }
        }
    }

    /// Runs `body` on the control thread's management channel; retried after a reconnect until
    /// `operationTimeout`. A broker channel error (404, 406) is reported and the channel reopened.
    private func perform<T>(_ what: String, _ body: @escaping (AMQPSession) throws -> T) async throws -> T {
        try checkOpen()
        let deadline = Date().addingTimeInterval(operationTimeout)
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            let once = SettleOnce()
            let finish: (Result<T, Error>) -> Void = { r in if once.claim() { c.resume(with: r) } }
            control.inbox.push(.operation(deadline: deadline, run: { s in
                do {
                    finish(.success(try body(s)))
                    return true
                } catch AMQPSessionError.channelClosed(let ch, let code, let text) {
                    finish(.failure(code == 404 ? TransportError.queueNotFound(text) : TransportError.broker("\(code) \(text)")))
                    do { try s.openChannel(ch) } catch { return false }
                    return true
                } catch {
                    return false
                }
            }, fail: { finish(.failure($0)) }))
        }
    }
}
