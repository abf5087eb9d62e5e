import CRabbitMQ
import Foundation
import Logging

/// The publishing/management connection of an `AMQPTransport`, owned by one dedicated thread.
///
/// Channel 1 publishes in confirm mode (batches: all queued publishes go out, then confirms are read);
/// channel 2 runs management RPCs (declare, passive declare, basic.get, delete). After the broker goes
/// away the thread reconnects with backoff, re-declares the topology and republishes every publish that
/// was not yet confirmed; waiting publishes fail only when their deadline passes.
final class AMQPControlLink: @unchecked Sendable {
    struct PublishRequest {
        var exchange: String
        var routingKey: String
        var body: Data
        var properties: MessageProperties
        var mandatory: Bool
        var deadline: Date
        var done: (Result<Void, Error>) -> Void
        var started = DispatchTime.now()
        /// Times the broker nacked this publish (retried up to `maxNacks`).
        var nacks = 0
    }

    /// A nacked publish is retried this many times before the nack is reported.
    static let maxNacks = 3

    enum Command {
        case publish(PublishRequest)
        /// A management operation on channel 2; returns false when it must be retried after a reconnect.
        case operation(deadline: Date, run: (AMQPSession) -> Bool, fail: (Error) -> Void)
    }

    static let publishChannel: UInt16 = 1
    static let managementChannel: UInt16 = 2

    private let url: AMQPURL
    private let registry: AMQPTopologyRegistry
    private let logger: Logger
    let inbox = CommandInbox<Command>()
    private let stateLock = NSLock()
    private var stopped = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    // Owned by the thread.
    private var session: AMQPSession?
    private var nextSequence: UInt64 = 1
    private var unconfirmed: [UInt64: PublishRequest] = [:]
    private var returned: Set<UInt64> = []
    private var backoff = Backoff()
    private(set) var connectCount = 0
    private var failures = 0

    init(url: AMQPURL, registry: AMQPTopologyRegistry, logger: Logger) {
        self.url = url
        self.registry = registry
        self.logger = logger
    }

    func start(name: String) {
        let t = Thread { [self] in self.run() }
        t.name = "amqp-control-\(name)"
        thread = t
        t.start()
    }

    var isStopped: Bool { stateLock.lock(); defer { stateLock.unlock() }; return stopped }

    /// Whether the control connection is up right now (for readiness probes).
    var isConnected: Bool { stateLock.withLock { connected } }
    private var connected = false

    /// Stops the thread; waiting commands fail with `TransportError.closed`.
    func stop() {
        stateLock.lock()
        let wasStopped = stopped
        stopped = true
        stateLock.unlock()
        guard !wasStopped, thread != nil else { return }
        inbox.push(.operation(deadline: .distantFuture, run: { _ in true }, fail: { _ in }))
        finished.wait()
    }

    private func run() {
        while !isStopped {
            if session == nil {
                failExpired()
                if !connect() {
                    let delay = backoff.failure()
                    let until = Date().addingTimeInterval(delay)
                    while !isStopped, Date() < until {
                        Thread.sleep(forTimeInterval: min(0.05, max(0, until.timeIntervalSinceNow)))
                    }
                    continue
                }
            }
            let commands = inbox.takeAll()
            for (i, command) in commands.enumerated() {
                guard session != nil else {
                    inbox.pushFront(Array(commands[i...]))
                    break
                }
                execute(command)
            }
            guard session != nil else { continue }
            if unconfirmed.isEmpty {
                if inbox.isEmpty { inbox.wait(seconds: 0.2) }
                pumpFrames(timeout: 0)          // heartbeats and broker-initiated closes
            } else {
                pumpFrames(timeout: 0.001)
            }
        }
        // Shut down: fail everything still waiting.
        for (_, r) in unconfirmed { r.done(.failure(TransportError.closed)) }
        unconfirmed.removeAll()
        for command in inbox.takeAll() {
            switch command {
            case .publish(let r): r.done(.failure(TransportError.closed))
            case .operation(_, _, let fail): fail(TransportError.closed)
            }
        }
        session?.close()
        session = nil
        finished.signal()
    }

    private func connect() -> Bool {
        do {
            let s = try AMQPSession(url: url, channels: [Self.publishChannel, Self.managementChannel])
            if lm_amqp_confirm_select(s.state, Self.publishChannel) != 0 {
                throw AMQPSessionError.connectionLost("confirm.select failed")
            }
            try s.declareTopology(services: registry.snapshot, channel: Self.managementChannel)
            session = s
            stateLock.withLock { connected = true }
            nextSequence = 1 // delivery tags restart at 1 after confirm.select
            returned.removeAll()
            connectCount += 1
            failures = 0
            backoff.reset()
            if connectCount > 1 {
                logger.notice("amqp control connection re-established", metadata: ["url": "\(url)"])
                TransportMetrics.reconnected("amqp", link: "control")
            }
            // Republish what the old connection never confirmed (at-least-once: may duplicate).
            let pending = unconfirmed.sorted { $0.key < $1.key }.map { Command.publish($0.value) }
            unconfirmed.removeAll()
            inbox.pushFront(pending)
            return true
        } catch {
            failures += 1
            // One warning per outage, then quieter.
            logger.log(level: failures == 1 ? .warning : .debug, "amqp connect failed",
                       metadata: ["url": "\(url)", "error": "\(error)", "attempt": "\(failures)"])
            return false
        }
    }

    private func dropSession(_ why: Error) {
        logger.warning("amqp control connection lost; reconnecting", metadata: ["error": "\(why)"])
        session?.abandon()
        session = nil
        stateLock.withLock { connected = false }
    }

    private func failExpired() {
        let now = Date()
        var keep: [Command] = []
        for command in inbox.takeAll() {
            switch command {
            case .publish(let r) where r.deadline < now:
                TransportMetrics.published("amqp", outcome: "timeout")
                r.done(.failure(TransportError.timeout("publish to '\(r.exchange)' key '\(r.routingKey)' not confirmed before its deadline (broker unavailable)")))
            case .operation(let deadline, _, let fail) where deadline < now:
                fail(TransportError.unavailable("broker \(url) unreachable"))
            default:
                keep.append(command)
            }
        }
        inbox.pushFront(keep)
        for (seq, r) in unconfirmed where r.deadline < now {
            unconfirmed[seq] = nil
            TransportMetrics.published("amqp", outcome: "timeout")
            r.done(.failure(TransportError.timeout("publish to '\(r.exchange)' key '\(r.routingKey)' not confirmed before its deadline")))
        }
    }

    private func execute(_ command: Command) {
        guard let s = session else { return }
        switch command {
        case .operation(_, let run, _):
            if !run(s) {
                dropSession(AMQPSessionError.connectionLost("management operation"))
                inbox.pushFront([command])
            }
        case .publish(let r):
            if r.deadline < Date() {
                r.done(.failure(TransportError.timeout("publish to '\(r.exchange)' key '\(r.routingKey)' not confirmed before its deadline")))
                return
            }
            let seq = nextSequence
            do {
                try s.publish(channel: Self.publishChannel, exchange: r.exchange, routingKey: r.routingKey,
                              mandatory: r.mandatory, properties: r.properties, body: r.body,
                              extraHeaders: r.mandatory ? [publishSequenceHeader: String(seq)] : [:])
                nextSequence += 1
                unconfirmed[seq] = r
            } catch {
                dropSession(error)
                inbox.pushFront([command])
            }
        }
    }

    /// Reads frames until none is ready: confirms, returns, broker-initiated closes.
    private func pumpFrames(timeout: Double) {
        var first = true
        while let s = session {
            var frame = amqp_frame_t()
            var tv = timeval(tv_sec: 0, tv_usec: first ? Int(timeout * 1_000_000) : 0)
            first = false
            let rc = amqp_simple_wait_frame_noblock(s.state, &frame, &tv)
            if rc == AMQP_STATUS_TIMEOUT.rawValue { return }
            if rc != AMQP_STATUS_OK.rawValue {
                dropSession(AMQPSessionError.connectionLost(String(cString: amqp_error_string2(rc))))
                return
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let method = frame.payload.method
            switch method.id {
            case AMQPMethod.basicAck:
                let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                settle(upTo: ack.delivery_tag, multiple: ack.multiple != 0, nacked: false)
            case AMQPMethod.basicNack:
                let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                settle(upTo: nack.delivery_tag, multiple: nack.multiple != 0, nacked: true)
            case AMQPMethod.basicReturn:
                var message = amqp_message_t()
                let reply = amqp_read_message(s.state, frame.channel, &message, 0)
                if reply.reply_type == AMQP_RESPONSE_NORMAL {
                    if let seq = Self.sequence(of: message.properties) { returned.insert(seq) }
                    amqp_destroy_message(&message)
                } else {
                    dropSession(AMQPSessionError.connectionLost("reading basic.return: \(AMQPSession.describe(reply))"))
                    return
                }
            case AMQPMethod.channelClose:
                let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let text = AMQPSession.string(close.reply_text)
                var ok = amqp_channel_close_ok_t(dummy: 0)
                _ = amqp_send_method(s.state, frame.channel, AMQPMethod.channelCloseOk, &ok)
                if close.reply_code == 404 {
                    // A publish named a missing exchange: fail those publishes, resend the others.
                    for (seq, r) in unconfirmed where text.contains("'\(r.exchange)'") {
                        unconfirmed[seq] = nil
                        r.done(.failure(TransportError.publishRejected("no exchange '\(r.exchange)': \(text)")))
                    }
                }
                dropSession(AMQPSessionError.channelClosed(channel: frame.channel, code: Int(close.reply_code), text: text))
                return
            case AMQPMethod.connectionClose:
                var ok = amqp_connection_close_ok_t(dummy: 0)
                _ = amqp_send_method(s.state, 0, AMQPMethod.connectionCloseOk, &ok)
                dropSession(AMQPSessionError.connectionLost("broker closed the connection"))
                return
            default:
                continue
            }
            s.releaseBuffersIfIdle()
        }
    }

    private func settle(upTo tag: UInt64, multiple: Bool, nacked: Bool) {
        let tags = multiple ? unconfirmed.keys.filter { $0 <= tag } : [tag]
        var confirmed = 0, rejected = 0
        for t in tags.sorted() {
            guard var r = unconfirmed.removeValue(forKey: t) else { continue }
            if nacked && r.nacks < Self.maxNacks && r.deadline > Date() {
                // The broker could not take the message (e.g. a queue still recovering): send it again.
                r.nacks += 1
                returned.remove(t)
                inbox.push(.publish(r))
            } else if nacked {
                rejected += 1
                r.done(.failure(TransportError.publishRejected("broker nacked publish to '\(r.exchange)' key '\(r.routingKey)'")))
            } else if returned.remove(t) != nil {
                rejected += 1
                r.done(.failure(TransportError.publishRejected("unroutable: no queue is bound to exchange '\(r.exchange)' with key '\(r.routingKey)'")))
            } else {
                confirmed += 1
                TransportMetrics.confirmLatency("amqp", since: r.started)
                r.done(.success(()))
            }
        }
        TransportMetrics.published("amqp", outcome: "confirmed", count: confirmed)
        TransportMetrics.published("amqp", outcome: "rejected", count: rejected)
    }

    private static func sequence(of p: amqp_basic_properties_t) -> UInt64? {
        guard UInt32(p._flags) & UInt32(AMQP_BASIC_HEADERS_FLAG) != 0, let entries = p.headers.entries else { return nil }
        for i in 0..<Int(p.headers.num_entries) where AMQPSession.string(entries[i].key) == publishSequenceHeader {
            return AMQPTable.text(entries[i].value).flatMap { UInt64($0) }
        }
        return nil
    }
}
