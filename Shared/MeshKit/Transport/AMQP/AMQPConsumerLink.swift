import CRabbitMQ
import Foundation
import Logging

/// One consumer (work queue with manual acks, or an events subscription with auto-ack) on its own
/// connection and thread.
///
/// Acks and nacks from handler tasks are queued to the thread and sent on the channel the delivery came
/// from; after a reconnect the old deliveries' tags are stale, so settling them is logged and skipped
/// (the broker redelivers those messages).
final class AMQPConsumerLink: ConsumerHandle, @unchecked Sendable {
    enum Source {
        case queue(String, prefetch: Int)
        case subscription(bindingKeys: [String])
        case replies(queue: String)
    }

    private struct Settle {
        var generation: Int
        var tag: UInt64
        var outcome: DeliveryOutcome
    }

    static let channel: UInt16 = 1

    private let url: AMQPURL
    private let source: Source
    private let registry: AMQPTopologyRegistry
    private let logger: Logger
    private let handler: @Sendable (Delivery) async -> Void
    private let settles = CommandInbox<Settle>()
    private let stateLock = NSLock()
    private var cancelled = false
    private var stopRequested = false
    private var dropRequested = false
    private var startResult: ((Result<Void, Error>) -> Void)?
    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?
    /// Serialises subscription handler calls (events keep their order).
    private var eventContinuation: AsyncStream<Delivery>.Continuation?
    private var eventTask: Task<Void, Never>?

    // Owned by the thread.
    private var session: AMQPSession?
    private var generation = 0
    private var inFlight = 0
    private var backoff = Backoff()
    private var failures = 0
    private var consumerTag = ""
    /// basic.cancel went out (or consuming was never resumed after a reconnect): new deliveries are ignored.
    private var stopSent = false
    private let stopDone = DispatchSemaphore(value: 0)

    init(url: AMQPURL, source: Source, registry: AMQPTopologyRegistry, logger: Logger,
         handler: @escaping @Sendable (Delivery) async -> Void) {
        self.url = url
        self.source = source
        self.registry = registry
        self.logger = logger
        self.handler = handler
    }

    private var isAutoAck: Bool { if case .queue = source { return false } else { return true } }

    /// Starts the thread and returns once the first basic.consume succeeded (or throws why it failed).
    func start(name: String) async throws {
        if isAutoAck {
            let (stream, continuation) = AsyncStream<Delivery>.makeStream()
            eventContinuation = continuation
            let handler = self.handler
            eventTask = Task { for await d in stream { await handler(d) } }
        }
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            startResult = { c.resume(with: $0) }
            let t = Thread { [self] in self.run() }
            t.name = "amqp-consumer-\(name)"
            thread = t
            t.start()
        }
    }

    private var isCancelled: Bool { stateLock.lock(); defer { stateLock.unlock() }; return cancelled }

    private func markCancelled() -> Bool {
        stateLock.withLock {
            let was = cancelled
            cancelled = true
            return was
        }
    }

    func cancel() async {
        let was = markCancelled()
        guard !was, thread != nil else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [finished] in
                finished.wait()
                c.resume()
            }
        }
        eventContinuation?.finish()
    }

    func stopDeliveries() async {
        let first: Bool = stateLock.withLock {
            if cancelled || stopRequested { return false }
            stopRequested = true
            return true
        }
        guard first else { return }
        settles.pokeWaiters()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [stopDone] in
                _ = stopDone.wait(timeout: .now() + 5)
                c.resume()
            }
        }
    }

    /// Test hook: the thread drops its connection without a close handshake (as if the network failed)
    /// and reconnects; deliveries handed out before are then stale.
    func dropConnectionForTesting() {
        stateLock.withLock { dropRequested = true }
    }

    /// Number of connections this consumer has made (1 + reconnects).
    var connectionGeneration: Int { stateLock.withLock { publishedGeneration } }
    private var publishedGeneration = 0

    /// Whether this consumer's connection is up right now, or it was cancelled (for readiness probes).
    var isConnectedOrCancelled: Bool { stateLock.withLock { connected || cancelled } }
    private var connected = false

    private var isStopRequested: Bool { stateLock.withLock { stopRequested } }

    /// Sends basic.cancel once a graceful stop was requested.
    private func sendStopIfRequested() {
        guard !stopSent, isStopRequested, let s = session else { return }
        stopSent = true
        consumerTag.withAMQPBytes { tag in _ = amqp_basic_cancel(s.state, Self.channel, tag) }
        do {
            try s.check("basic.cancel", channel: Self.channel)
        } catch {
            drop(error)
        }
        stopDone.signal()
    }

    private func reportStart(_ result: Result<Void, Error>) {
        if let r = startResult {
            startResult = nil
            r(result)
        }
    }

    private func run() {
        while !isCancelled {
            if session == nil {
                do {
                    try connect()
                    reportStart(.success(()))
                } catch {
                    if startResult != nil, case AMQPSessionError.channelClosed(_, let code, let text) = error {
                        reportStart(.failure(code == 404 ? TransportError.queueNotFound(text) : TransportError.broker(text)))
                        break
                    }
                    if startResult != nil {
                        reportStart(.failure(TransportError.unavailable("\(error)")))
                        break
                    }
                    failures += 1
                    logger.log(level: failures == 1 ? .warning : .debug, "amqp consumer reconnect failed",
                               metadata: ["error": "\(error)", "attempt": "\(failures)"])
                    let until = Date().addingTimeInterval(backoff.failure())
                    while !isCancelled, Date() < until { Thread.sleep(forTimeInterval: 0.05) }
                    continue
                }
            }
            if stateLock.withLock({ () -> Bool in let d = dropRequested; dropRequested = false; return d }) {
                drop(AMQPSessionError.connectionLost("dropped for testing"))
                continue
            }
            sendSettles()
            sendStopIfRequested()
            guard let s = session else { continue }
            s.releaseBuffersIfIdle()
            var envelope = amqp_envelope_t()
            // Short polls while handlers hold deliveries, so their acks go out promptly.
            var tv = timeval(tv_sec: 0, tv_usec: inFlight > 0 ? 2_000 : 50_000)
            let reply = amqp_consume_message(s.state, &envelope, &tv, 0)
            if reply.reply_type == AMQP_RESPONSE_NORMAL {
                dispatch(envelope)
                amqp_destroy_envelope(&envelope)
                continue
            }
            if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
                if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { continue }
                if reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                    handleOtherFrame(s)
                    continue
                }
            }
            drop(AMQPSessionError.connectionLost(AMQPSession.describe(reply)))
        }
        // Cancelled: send the acks already made, then closing the connection returns every other
        // unacked delivery to the queue.
        sendSettles()
        if let s = session {
            s.close()
            session = nil
        }
        reportStart(.failure(TransportError.closed))
        finished.signal()
    }

    private func connect() throws {
        let s = try AMQPSession(url: url, channels: [Self.channel])
        do {
            try s.declareTopology(services: registry.snapshot, channel: Self.channel)
            let queue: String
            switch source {
            case .queue(let name, let prefetch):
                queue = name
                _ = amqp_basic_qos(s.state, Self.channel, 0, UInt16(clamping: prefetch), 0)
                try s.check("basic.qos", channel: Self.channel)
            case .subscription(let keys):
                queue = try s.declareQueue("", durable: false, exclusive: true, autoDelete: true, channel: Self.channel).name
                for key in keys {
                    try s.bindQueue(queue, exchange: MeshTopology.eventsExchange, key: key, channel: Self.channel)
                }
            case .replies(let name):
                queue = try s.declareQueue(name, durable: false, exclusive: true, autoDelete: true, channel: Self.channel).name
            }
            if isStopRequested {
                stopSent = true // reconnected after a graceful stop: stay connected, consume nothing
                stopDone.signal()
            } else {
                let ok = queue.withAMQPBytes { q in
                    amqp_basic_consume(s.state, Self.channel, q, amqp_empty_bytes, 0, isAutoAck ? 1 : 0, 0, amqp_empty_table)
                }
                try s.check("basic.consume \(queue)", channel: Self.channel)
                consumerTag = ok.map { AMQPSession.string($0.pointee.consumer_tag) } ?? ""
            }
        } catch {
            s.close()
            throw error
        }
        session = s
        generation += 1
        stateLock.withLock { publishedGeneration = generation; connected = true }
        inFlight = 0
        if generation > 1 {
            logger.notice("amqp consumer re-established", metadata: ["source": "\(source)"])
            TransportMetrics.reconnected("amqp", link: "consumer")
        }
        backoff.reset()
        failures = 0
    }

    private func drop(_ error: Error) {
        logger.warning("amqp consumer connection lost; reconnecting", metadata: ["error": "\(error)"])
        session?.abandon()
        session = nil
        stateLock.withLock { connected = false }
    }

    private func dispatch(_ envelope: amqp_envelope_t) {
        // Deliveries that crossed basic.cancel are not handed out; closing the channel requeues them.
        if stopSent { return }
        let raw = AMQPRawDelivery(message: envelope.message, exchange: AMQPSession.string(envelope.exchange),
                                  routingKey: AMQPSession.string(envelope.routing_key),
                                  redelivered: envelope.redelivered != 0)
        if isAutoAck {
            eventContinuation?.yield(raw.delivery(settle: { _ in }))
            return
        }
        let tag = envelope.delivery_tag, gen = generation
        let once = SettleOnce()
        let delivery = raw.delivery { [weak self] outcome in
            guard once.claim() else { return }
            self?.settles.push(Settle(generation: gen, tag: tag, outcome: outcome))
        }
        inFlight += 1
        let handler = self.handler
        Task { await handler(delivery) }
    }

    private func sendSettles() {
        for s in settles.takeAll() {
            guard s.generation == generation, let session else {
                TransportMetrics.staleSettle("amqp")
                logger.info("ignoring settle of a delivery from a closed channel (the broker redelivers it)",
                            metadata: ["tag": "\(s.tag)", "outcome": "\(s.outcome)"])
                continue
            }
            inFlight = max(0, inFlight - 1)
            do {
                switch s.outcome {
                case .ack: try session.ack(channel: Self.channel, tag: s.tag)
                case .nack(let requeue): try session.nack(channel: Self.channel, tag: s.tag, requeue: requeue)
                }
            } catch {
                drop(error)
                return
            }
        }
    }

    /// Handles a non-delivery frame that arrived while consuming.
    private func handleOtherFrame(_ s: AMQPSession) {
        var frame = amqp_frame_t()
        let rc = amqp_simple_wait_frame(s.state, &frame)
        guard rc == AMQP_STATUS_OK.rawValue else {
            drop(AMQPSessionError.connectionLost(String(cString: amqp_error_string2(rc))))
            return
        }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }
        switch frame.payload.method.id {
        case AMQPMethod.channelClose:
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(s.state, frame.channel, AMQPMethod.channelCloseOk, &ok)
            drop(AMQPSessionError.channelClosed(channel: frame.channel, code: 0, text: "closed by broker"))
        case AMQPMethod.connectionClose:
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(s.state, 0, AMQPMethod.connectionCloseOk, &ok)
            drop(AMQPSessionError.connectionLost("broker closed the connection"))
        case AMQPMethod.basicCancel:
            // The queue was deleted: resubscribe after a pause (re-declaring known work queues).
            drop(AMQPSessionError.connectionLost("broker cancelled the consumer (queue deleted?)"))
            Thread.sleep(forTimeInterval: backoff.failure())
        default:
            break
        }
    }
}

/// Guards a delivery against being settled twice.
final class SettleOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func claim() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}
