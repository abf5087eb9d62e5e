import Foundation

/// Fixed names of the mesh's broker topology.
public enum MeshTopology {
    /// Direct, durable exchange every request is published to (routing key = method, e.g. "tokenizer.encode").
    public static let workExchange = "latentmesh"
    /// Topic, durable exchange for progress, previews, status and cancellations.
    public static let eventsExchange = "latentmesh.events"
    /// Fanout, durable exchange that work queues dead-letter into.
    public static let deadLetterExchange = "latentmesh.dlx"
    /// Durable queue bound to the dead-letter exchange.
    public static let deadLetterQueue = "latentmesh.dead"
    /// The durable quorum work queue of a service.
    public static func workQueue(service: String) -> String { "latentmesh.\(service)" }
    /// Suffix of the urgent lane: requests with `RequestMeta.priority > 0` are published with
    /// routing key `<method>.urgent` into the queue `latentmesh.<service>.urgent`, which every
    /// worker drains before its normal queue (quorum queues have no message priorities).
    public static let urgentSuffix = ".urgent"
    /// The service's urgent (high-priority) work queue.
    public static func urgentQueue(service: String) -> String { workQueue(service: service) + urgentSuffix }
    /// Highest `RequestMeta.priority`.
    public static let maxPriority: Int32 = 9

    /// The routing key of a request for `method` at `priority` (0 = normal lane, 1...9 = urgent lane).
    public static func routingKey(method: String, priority: Int32) -> String {
        priority > 0 ? method + urgentSuffix : method
    }

    /// The method a routing key names (the urgent suffix removed).
    public static func method(ofRoutingKey key: String) -> String {
        key.hasSuffix(urgentSuffix) ? String(key.dropLast(urgentSuffix.count)) : key
    }

    /// The work queues `declareService` declares for a service, highest lane first, each with the
    /// routing keys bound to it: the urgent queue (`<key>.urgent`) and the normal queue (`<key>`).
    public static func serviceQueues(service: String, routingKeys: [String]) -> [(queue: String, keys: [String])] {
        [(urgentQueue(service: service), routingKeys.map { $0 + urgentSuffix }),
         (workQueue(service: service), routingKeys)]
    }
    /// x-delivery-limit on work queues: a message delivered more often than this is dead-lettered.
    public static let deliveryLimit = 5
    /// Largest message body the mesh carries (16 MiB): publishes above it are refused by the
    /// transports, the broker is configured with the same `max_message_size`, and services
    /// dead-letter larger deliveries before decoding them.
    public static let maxMessageBytes = 16 * 1024 * 1024

    /// Refuses a body above `maxMessageBytes` before it is sent, naming the limit.
    public static func checkMessageSize(_ body: Data, limit: Int = maxMessageBytes) throws {
        guard body.count <= limit else {
            throw TransportError.invalidArgument(
                field: "message.size", message: "\(body.count) bytes exceeds the limit of \(limit) bytes (max_message_bytes)")
        }
    }
}

/// AMQP basic properties the mesh uses (a transport-neutral subset).
public struct MessageProperties: Sendable, Equatable {
    public var correlationID: String?
    public var replyTo: String?
    public var messageID: String?
    /// The routing key / kind, e.g. "tokenizer.encode".
    public var type: String?
    /// Publish time in milliseconds since the Unix epoch.
    public var timestampMs: Int64?
    /// String-valued application headers.
    public var headers: [String: String]
    /// Delivery mode 2 (survives a broker restart) when true.
    public var persistent: Bool

    public init(correlationID: String? = nil, replyTo: String? = nil, messageID: String? = nil,
                type: String? = nil, timestampMs: Int64? = nil, headers: [String: String] = [:],
                persistent: Bool = true) {
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.messageID = messageID
        self.type = type
        self.timestampMs = timestampMs
        self.headers = headers
        self.persistent = persistent
    }
}

/// How a consumer settled a delivery.
public enum DeliveryOutcome: Sendable, Equatable {
    case ack
    case nack(requeue: Bool)
}

/// One message handed to a consumer; settle it with exactly one `ack()` or `nack(requeue:)`.
public struct Delivery: Sendable {
    public let body: Data
    public let properties: MessageProperties
    public let exchange: String
    public let routingKey: String
    /// True when the broker delivered this message before (to any consumer).
    public let redelivered: Bool
    /// Quorum queue x-delivery-count: 0 on the first delivery, +1 per redelivery.
    public let deliveryCount: Int
    private let settle: @Sendable (DeliveryOutcome) async throws -> Void

    /// Builds a delivery; `settle` is called by `ack()` / `nack(requeue:)` (transports use this).
    public init(body: Data, properties: MessageProperties, exchange: String, routingKey: String,
                redelivered: Bool, deliveryCount: Int,
                settle: @escaping @Sendable (DeliveryOutcome) async throws -> Void) {
        self.body = body
        self.properties = properties
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.deliveryCount = deliveryCount
        self.settle = settle
    }

    /// Acknowledges the delivery: the broker forgets the message.
    public func ack() async throws { try await settle(.ack) }

    /// Rejects the delivery: requeue it, or (requeue: false) send it to the dead-letter exchange.
    public func nack(requeue: Bool) async throws { try await settle(.nack(requeue: requeue)) }
}

/// A running consumer or subscription.
public protocol ConsumerHandle: Sendable {
    /// Stops receiving; deliveries not yet acked stay with the broker and are redelivered.
    func cancel() async
    /// Graceful drain (e.g. on SIGTERM): no new deliveries arrive, but deliveries already handed to the
    /// handler can still be acked or nacked until `cancel()`.
    func stopDeliveries() async
}

extension ConsumerHandle {
    /// Fallback for handles without a graceful mode: cancels (unacked deliveries are redelivered).
    public func stopDeliveries() async { await cancel() }
}

/// A message transport with at-least-once delivery: AMQP (`AMQPTransport`) or in-memory (`InProcessTransport`).
public protocol MeshTransport: AnyObject, Sendable {
    /// "amqp" | "inproc".
    var kind: String { get }
    /// Declares exchanges, the DLX + dead queue, and the service's durable quorum work queue
    /// (x-queue-type quorum, x-delivery-limit, x-dead-letter-exchange) bound to each routing key.
    /// Also re-declared automatically after a reconnect.
    func declareService(_ service: String, routingKeys: [String]) async throws
    /// Publishes and returns once the broker confirmed it (publisher confirms). Throws on nack/timeout.
    func publish(exchange: String, routingKey: String, body: Data, properties: MessageProperties) async throws
    /// Consumes a work queue with manual acks and the given prefetch (basic.qos).
    /// The handler is called concurrently for up to `prefetch` deliveries.
    func consume(queue: String, prefetch: Int,
                 handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle
    /// Subscribes to the events topic exchange with an exclusive auto-delete queue bound to the keys
    /// (e.g. "run.<id>.*", "cancel.#"); auto-ack.
    func subscribe(bindingKeys: [String],
                   handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle
    /// Declares an exclusive, auto-delete queue named `queue` (re-declared after a reconnect) and consumes
    /// it with auto-ack: the reply queue of an RPC client. Replies are published to the default exchange
    /// ("") with the queue name as routing key.
    func consumeReplies(queue: String,
                        handler: @escaping @Sendable (Delivery) async -> Void) async throws -> ConsumerHandle
    /// Reads (and acks) up to `limit` messages of a queue without consuming forever (dead letters).
    func drain(queue: String, limit: Int) async throws -> [Delivery]
    /// Number of ready messages in a queue (passive declare).
    func messageCount(queue: String) async throws -> Int
    func close() async
    /// Whether the transport is connected to its broker right now (readiness).
    var isConnected: Bool { get }
}

extension MeshTransport {
    /// In-memory transports are always connected.
    public var isConnected: Bool { true }
}

/// Errors raised by transports, the RPC client and the event bus.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A URL or argument was malformed; names the part and what was expected.
    case invalidArgument(field: String, message: String)
    /// The broker could not be reached within the allowed time.
    case unavailable(String)
    /// The broker refused a publish (basic.nack) or returned it as unroutable.
    case publishRejected(String)
    /// No confirm within the allowed time.
    case timeout(String)
    /// The queue does not exist.
    case queueNotFound(String)
    /// The transport was closed.
    case closed
    /// A protocol-level failure reported by the broker or the client library.
    case broker(String)

    public var description: String {
        switch self {
        case .invalidArgument(let field, let message): return "invalid \(field): \(message)"
        case .unavailable(let m): return "broker unavailable: \(m)"
        case .publishRejected(let m): return "publish rejected: \(m)"
        case .timeout(let m): return "timeout: \(m)"
        case .queueNotFound(let q): return "queue not found: \(q)"
        case .closed: return "transport closed"
        case .broker(let m): return "broker error: \(m)"
        }
    }
}
