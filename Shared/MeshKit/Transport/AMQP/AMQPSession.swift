import CRabbitMQ
import Foundation

/// Method ids of AMQP 0-9-1 (rabbitmq-c defines them as cast macros Swift cannot import).
enum AMQPMethod {
    static let connectionClose: amqp_method_number_t = 0x000A_0032
    static let connectionCloseOk: amqp_method_number_t = 0x000A_0033
    static let channelClose: amqp_method_number_t = 0x0014_0028
    static let channelCloseOk: amqp_method_number_t = 0x0014_0029
    static let basicCancel: amqp_method_number_t = 0x003C_001E
    static let basicReturn: amqp_method_number_t = 0x003C_0032
    static let basicDeliver: amqp_method_number_t = 0x003C_003C
    static let basicGetOk: amqp_method_number_t = 0x003C_0047
    static let basicAck: amqp_method_number_t = 0x003C_0050
    static let basicNack: amqp_method_number_t = 0x003C_0078
}

/// A failure of one AMQP session.
enum AMQPSessionError: Error, CustomStringConvertible {
    /// The broker closed a channel (e.g. 404 NOT_FOUND, 406 PRECONDITION_FAILED); the connection lives on.
    case channelClosed(channel: UInt16, code: Int, text: String)
    /// The connection is gone (socket error, heartbeat timeout, connection.close): reconnect.
    case connectionLost(String)

    var description: String {
        switch self {
        case .channelClosed(let ch, let code, let text): return "channel \(ch) closed by broker: \(code) \(text)"
        case .connectionLost(let m): return "connection lost: \(m)"
        }
    }
}

/// One rabbitmq-c connection; NOT thread-safe: owned and used by exactly one thread.
final class AMQPSession {
    let state: amqp_connection_state_t
    private var open = true

    /// Opens a TCP connection, logs in and opens the given channels.
    init(url: AMQPURL, channels: [UInt16], connectTimeout: TimeInterval = 5) throws {
        guard let st = amqp_new_connection() else { throw AMQPSessionError.connectionLost("amqp_new_connection failed") }
        state = st
        guard let socket = amqp_tcp_socket_new(st) else {
            abandon() // (deinit runs after a throwing init too: `abandon` marks the state freed)
            throw AMQPSessionError.connectionLost("amqp_tcp_socket_new failed")
        }
        var tv = timeval(tv_sec: Int(connectTimeout), tv_usec: 0)
        let rc = amqp_socket_open_noblock(socket, url.host, Int32(url.port), &tv)
        if rc != AMQP_STATUS_OK.rawValue {
            abandon()
            throw AMQPSessionError.connectionLost("connect to \(url.host):\(url.port): \(String(cString: amqp_error_string2(rc)))")
        }
        var rpcTimeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = amqp_set_rpc_timeout(st, &rpcTimeout)
        let login = lm_amqp_login_plain(st, url.vhost, 0, 131_072, Int32(url.heartbeat), url.user, url.password)
        if login.reply_type != AMQP_RESPONSE_NORMAL {
            let message = AMQPSession.describe(login)
            abandon()
            throw AMQPSessionError.connectionLost("login to \(url): \(message)")
        }
        do {
            for ch in channels { try openChannel(ch) }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the connection politely (best effort) and frees it.
    func close() {
        guard open else { return }
        open = false
        _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        amqp_destroy_connection(state)
    }

    /// Drops the connection without the close handshake (the socket is already dead).
    func abandon() {
        guard open else { return }
        open = false
        amqp_destroy_connection(state)
    }

    func openChannel(_ channel: UInt16) throws {
        _ = amqp_channel_open(state, channel)
        try check("channel.open", channel: channel)
    }

    /// Converts the last RPC reply into an error; answers a broker channel.close with close-ok.
    func check(_ what: String, channel: UInt16) throws {
        let reply = amqp_get_rpc_reply(state)
        try Self.throwIfFailed(reply, what: what, channel: channel, session: self)
    }

    static func throwIfFailed(_ reply: amqp_rpc_reply_t, what: String, channel: UInt16, session: AMQPSession) throws {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQPMethod.channelClose:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(session.state, channel, AMQPMethod.channelCloseOk, &ok)
            throw AMQPSessionError.channelClosed(channel: channel, code: Int(close.reply_code),
                                                 text: "\(what): " + string(close.reply_text))
        default:
            throw AMQPSessionError.connectionLost("\(what): \(describe(reply))")
        }
    }

    static func describe(_ reply: amqp_rpc_reply_t) -> String {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL: return "ok"
        case AMQP_RESPONSE_NONE: return "missing RPC reply"
        case AMQP_RESPONSE_LIBRARY_EXCEPTION: return String(cString: amqp_error_string2(reply.library_error))
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == AMQPMethod.connectionClose {
                let c = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return "server closed connection: \(c.reply_code) \(string(c.reply_text))"
            }
            if reply.reply.id == AMQPMethod.channelClose {
                let c = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return "server closed channel: \(c.reply_code) \(string(c.reply_text))"
            }
            return "server exception \(reply.reply.id)"
        default: return "unknown reply"
        }
    }

    static func string(_ b: amqp_bytes_t) -> String {
        guard b.len > 0, let p = b.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: b.len), as: UTF8.self)
    }

    static func data(_ b: amqp_bytes_t) -> Data {
        guard b.len > 0, let p = b.bytes else { return Data() }
        return Data(bytes: p, count: b.len)
    }

    // MARK: Topology

    func declareExchange(_ name: String, type: String, channel: UInt16) throws {
        name.withAMQPBytes { n in
            type.withAMQPBytes { t in
                _ = amqp_exchange_declare(state, channel, n, t, 0, 1, 0, 0, amqp_empty_table)
            }
        }
        try check("exchange.declare \(name)", channel: channel)
    }

    /// Declares a queue; returns its (possibly server-assigned) name and ready message count.
    @discardableResult
    func declareQueue(_ name: String, passive: Bool = false, durable: Bool = true, exclusive: Bool = false,
                      autoDelete: Bool = false, arguments: AMQPTable = AMQPTable(), channel: UInt16) throws -> (name: String, messages: Int) {
        var result: (String, Int)? = nil
        arguments.withTable { table in
            name.withAMQPBytes { n in
                if let ok = amqp_queue_declare(state, channel, n, passive ? 1 : 0, durable ? 1 : 0,
                                               exclusive ? 1 : 0, autoDelete ? 1 : 0, table) {
                    result = (Self.string(ok.pointee.queue), Int(ok.pointee.message_count))
                }
            }
        }
        try check("queue.declare \(name)", channel: channel)
        guard let r = result else { throw AMQPSessionError.connectionLost("queue.declare \(name): no reply") }
        return r
    }

    func bindQueue(_ queue: String, exchange: String, key: String, channel: UInt16) throws {
        queue.withAMQPBytes { q in
            exchange.withAMQPBytes { e in
                key.withAMQPBytes { k in
                    _ = amqp_queue_bind(state, channel, q, e, k, amqp_empty_table)
                }
            }
        }
        try check("queue.bind \(queue) <- \(exchange)/\(key)", channel: channel)
    }

    func deleteQueue(_ queue: String, channel: UInt16) throws {
        queue.withAMQPBytes { q in _ = amqp_queue_delete(state, channel, q, 0, 0) }
        try check("queue.delete \(queue)", channel: channel)
    }

    /// Declares the mesh exchanges, dead-letter queue and the given services' work queues.
    func declareTopology(services: [String: [String]], channel: UInt16) throws {
        try declareExchange(MeshTopology.workExchange, type: "direct", channel: channel)
        try declareExchange(MeshTopology.eventsExchange, type: "topic", channel: channel)
        try declareExchange(MeshTopology.deadLetterExchange, type: "fanout", channel: channel)
        try declareQueue(MeshTopology.deadLetterQueue, channel: channel)
        try bindQueue(MeshTopology.deadLetterQueue, exchange: MeshTopology.deadLetterExchange, key: "", channel: channel)
        for (service, keys) in services.sorted(by: { $0.key < $1.key }) {
            for (queue, queueKeys) in MeshTopology.serviceQueues(service: service, routingKeys: keys) {
                try declareQueue(queue, arguments: AMQPTable.workQueueArguments, channel: channel)
                for key in queueKeys {
                    try bindQueue(queue, exchange: MeshTopology.workExchange, key: key, channel: channel)
                }
            }
        }
    }

    // MARK: Messages

    func publish(channel: UInt16, exchange: String, routingKey: String, mandatory: Bool,
                 properties: MessageProperties, body: Data, extraHeaders: [String: String] = [:]) throws {
        let rc: Int32 = properties.withBasicProperties(extraHeaders: extraHeaders) { props in
            exchange.withAMQPBytes { e in
                routingKey.withAMQPBytes { k in
                    body.withUnsafeBytes { raw -> Int32 in
                        let bytes = amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress))
                        return amqp_basic_publish(state, channel, e, k, mandatory ? 1 : 0, 0, props, bytes)
                    }
                }
            }
        }
        if rc != AMQP_STATUS_OK.rawValue {
            throw AMQPSessionError.connectionLost("basic.publish: \(String(cString: amqp_error_string2(rc)))")
        }
    }

    /// Frees decoding memory when no frames are buffered.
    func releaseBuffersIfIdle() { amqp_maybe_release_buffers(state) }

    func ack(channel: UInt16, tag: UInt64) throws {
        let rc = amqp_basic_ack(state, channel, tag, 0)
        if rc != AMQP_STATUS_OK.rawValue {
            throw AMQPSessionError.connectionLost("basic.ack: \(String(cString: amqp_error_string2(rc)))")
        }
    }

    func nack(channel: UInt16, tag: UInt64, requeue: Bool) throws {
        let rc = amqp_basic_nack(state, channel, tag, 0, requeue ? 1 : 0)
        if rc != AMQP_STATUS_OK.rawValue {
            throw AMQPSessionError.connectionLost("basic.nack: \(String(cString: amqp_error_string2(rc)))")
        }
    }

    /// Fetches one message with basic.get (no auto-ack); nil when the queue is empty.
    func get(queue: String, channel: UInt16) throws -> (tag: UInt64, delivery: AMQPRawDelivery)? {
        let reply = queue.withAMQPBytes { q in amqp_basic_get(state, channel, q, 0) }
        try Self.throwIfFailed(reply, what: "basic.get \(queue)", channel: channel, session: self)
        guard reply.reply.id == AMQPMethod.basicGetOk else { return nil }
        let ok = reply.reply.decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        let tag = ok.delivery_tag
        let exchange = Self.string(ok.exchange), key = Self.string(ok.routing_key), redelivered = ok.redelivered != 0
        var message = amqp_message_t()
        let read = amqp_read_message(state, channel, &message, 0)
        try Self.throwIfFailed(read, what: "basic.get content", channel: channel, session: self)
        defer { amqp_destroy_message(&message) }
        let raw = AMQPRawDelivery(message: message, exchange: exchange, routingKey: key, redelivered: redelivered)
        return (tag, raw)
    }
}

/// A decoded incoming message, independent of rabbitmq-c memory.
struct AMQPRawDelivery {
    var body: Data
    var properties: MessageProperties
    var exchange: String
    var routingKey: String
    var redelivered: Bool
    var deliveryCount: Int

    init(message: amqp_message_t, exchange: String, routingKey: String, redelivered: Bool) {
        body = AMQPSession.data(message.body)
        let decoded = MessageProperties.decode(message.properties)
        properties = decoded.properties
        deliveryCount = decoded.deliveryCount
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
    }

    func delivery(settle: @escaping @Sendable (DeliveryOutcome) async throws -> Void) -> Delivery {
        Delivery(body: body, properties: properties, exchange: exchange, routingKey: routingKey,
                 redelivered: redelivered, deliveryCount: deliveryCount, settle: settle)
    }
}

extension String {
    /// Calls `body` with an amqp_bytes_t view of the UTF-8 bytes (valid only inside the call).
    func withAMQPBytes<R>(_ body: (amqp_bytes_t) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { buf in
            try body(amqp_bytes_t(len: buf.count, bytes: UnsafeMutableRawPointer(mutating: buf.baseAddress)))
        }
    }
}
