import Foundation

/// Errors of `RPCClient.call`.
public enum RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No reply arrived within the timeout.
    case deadlineExceeded(routingKey: String, timeoutMs: Int64)
    /// The client was closed while the call waited.
    case closed

    public var description: String {
        switch self {
        case .deadlineExceeded(let key, let ms): return "no reply to '\(key)' within \(ms) ms (DEADLINE_EXCEEDED)"
        case .closed: return "RPC client closed"
        }
    }
}

/// Request/reply over any `MeshTransport`: one exclusive reply queue per client, correlation ids, deadlines.
///
/// Requests go to `MeshTopology.workExchange` with `reply_to` = the client's queue and a fresh
/// `correlation_id`; the service answers on the default exchange with that queue as routing key.
public final class RPCClient: Sendable {
    public let transport: MeshTransport
    /// Name of this client's reply queue.
    public let replyQueue: String
    private let pending: PendingCalls
    private let handle: ConsumerHandle

    public init(transport: MeshTransport) async throws {
        self.transport = transport
        let pending = PendingCalls()
        self.pending = pending
        replyQueue = "latentmesh.reply.\(UUID().uuidString.lowercased())"
        handle = try await transport.consumeReplies(queue: replyQueue) { delivery in
            guard let id = delivery.properties.correlationID else { return }
            pending.resolve(id, with: .success(delivery.body))
        }
    }

    /// Publishes `body` to the work exchange with `routingKey` and waits for the reply body.
    /// Throws `RPCError.deadlineExceeded` after `timeout`, or the transport's publish error.
    public func call(routingKey: String, body: Data, timeout: Duration,
                     headers: [String: String] = [:]) async throws -> Data {
        let id = UUID().uuidString.lowercased()
        let ms = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        let props = MessageProperties(correlationID: id, replyTo: replyQueue, messageID: id, type: routingKey,
                                      timestampMs: Int64(Date().timeIntervalSince1970 * 1000), headers: headers)
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Data, Error>) in
            guard pending.register(id, c) else { return }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                pending.resolve(id, with: .failure(RPCError.deadlineExceeded(routingKey: routingKey, timeoutMs: ms)))
            }
            pending.attachTimer(id, timer)
            Task {
                do {
                    try await transport.publish(exchange: MeshTopology.workExchange, routingKey: routingKey,
                                                body: body, properties: props)
                } catch {
                    pending.resolve(id, with: .failure(error))
                }
            }
        }
    }

    /// Stops the reply consumer; calls still waiting fail with `RPCError.closed`.
    public func close() async {
        await handle.cancel()
        pending.failAll(RPCError.closed)
    }
}

/// Calls waiting for their reply, by correlation id.
final class PendingCalls: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [String: CheckedContinuation<Data, Error>] = [:]
    private var timers: [String: Task<Void, Never>] = [:]
    private var closed = false

    func register(_ id: String, _ c: CheckedContinuation<Data, Error>) -> Bool {
        let ok = lock.withLock { () -> Bool in
            if closed { return false }
            waiting[id] = c
            return true
        }
        if !ok { c.resume(throwing: RPCError.closed) }
        return ok
    }

    func attachTimer(_ id: String, _ t: Task<Void, Never>) {
        let keep = lock.withLock { () -> Bool in
            guard waiting[id] != nil else { return false }
            timers[id] = t
            return true
        }
        if !keep { t.cancel() }
    }

    func resolve(_ id: String, with result: Result<Data, Error>) {
        let (c, t) = lock.withLock { (waiting.removeValue(forKey: id), timers.removeValue(forKey: id)) }
        t?.cancel()
        c?.resume(with: result)
    }

    func failAll(_ error: Error) {
        let all = lock.withLock { () -> [CheckedContinuation<Data, Error>] in
            closed = true
            let cs = Array(waiting.values)
            waiting.removeAll()
            timers.values.forEach { $0.cancel() }
            timers.removeAll()
            return cs
        }
        all.forEach { $0.resume(throwing: error) }
    }
}
