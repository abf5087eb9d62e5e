import Foundation

/// The in-memory broker state behind `InProcessTransport` (all access under the transport's lock).
struct InProcessBroker {
    enum ExchangeType { case direct, topic, fanout }

    struct Exchange {
        var type: ExchangeType
        var bindings: [(queue: String, key: String)] = []
    }

    struct Message {
        var body: Data
        var properties: MessageProperties
        var exchange: String
        var routingKey: String
        var redelivered = false
        var deliveryCount = 0
    }

    final class Consumer {
        let id: Int
        let queue: String
        let prefetch: Int          // 0 = unbounded (auto-ack)
        let autoAck: Bool
        let handler: @Sendable (Delivery) async -> Void
        let events: AsyncStream<Delivery>.Continuation?
        var unacked: [UInt64: Message] = [:]
        /// Set by `stopDeliveries`: receives nothing more, may still settle `unacked`.
        var stopped = false

        init(id: Int, queue: String, prefetch: Int, autoAck: Bool, handler: @escaping @Sendable (Delivery) async -> Void,
             events: AsyncStream<Delivery>.Continuation?) {
            self.id = id
            self.queue = queue
            self.prefetch = prefetch
            self.autoAck = autoAck
            self.handler = handler
            self.events = events
        }

        var hasCapacity: Bool { !stopped && (prefetch == 0 || unacked.count < prefetch) }
    }

    struct Queue {
        var ready: [Message] = []
        /// Quorum-like work queue: counts deliveries and dead-letters past the limit.
        var deliveryLimit: Int?
        var deadLetterExchange: String?
        var autoDelete = false
        var consumers: [Consumer] = []
        var nextConsumer = 0
    }

    var exchanges: [String: Exchange] = [:]
    var queues: [String: Queue] = [:]
    var nextTag: UInt64 = 1
    var nextConsumerID = 1

    /// Queues a message published to `exchange` with `key` reaches ("" = default exchange: the queue named `key`).
    func route(exchange: String, key: String) throws -> [String] {
        if exchange.isEmpty { return queues[key] != nil ? [key] : [] }
        guard let ex = exchanges[exchange] else {
            throw TransportError.publishRejected("no exchange '\(exchange)'")
        }
        var out: [String] = []
        for b in ex.bindings where !out.contains(b.queue) {
            let hit: Bool
            switch ex.type {
            case .fanout: hit = true
            case .direct: hit = b.key == key
            case .topic: hit = Self.topicMatches(pattern: b.key, key: key)
            }
            if hit { out.append(b.queue) }
        }
        return out
    }

    /// AMQP topic matching: words split on '.', '*' matches one word, '#' zero or more.
    static func topicMatches(pattern: String, key: String) -> Bool {
        let p = pattern.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let k = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == k.count }
            if p[i] == "#" {
                for skip in j...k.count where match(i + 1, skip) { return true }
                return false
            }
            guard j < k.count else { return false }
            return (p[i] == "*" || p[i] == k[j]) && match(i + 1, j + 1)
        }
        return match(0, 0)
    }

    mutating func bind(queue: String, exchange: String, key: String) {
        guard var ex = exchanges[exchange] else { return }
        if !ex.bindings.contains(where: { $0.queue == queue && $0.key == key }) {
            ex.bindings.append((queue, key))
            exchanges[exchange] = ex
        }
    }

    mutating func deleteQueue(_ name: String) {
        queues[name] = nil
        for (n, var ex) in exchanges {
            ex.bindings.removeAll { $0.queue == name }
            exchanges[n] = ex
        }
    }

    /// Puts a rejected or returned message back, or dead-letters it past the delivery limit.
    mutating func requeue(_ message: Message, queue: String) {
        guard var q = queues[queue] else { return }
        var m = message
        m.redelivered = true
        m.deliveryCount += 1
        if let limit = q.deliveryLimit, m.deliveryCount > limit {
            deadLetter(m, from: q)
            return
        }
        q.ready.insert(m, at: 0)
        queues[queue] = q
    }

    /// Sends a message to its queue's dead-letter exchange (dropped when the queue has none).
    mutating func deadLetter(_ message: Message, from q: Queue) {
        guard let dlx = q.deadLetterExchange, let targets = try? route(exchange: dlx, key: message.routingKey) else { return }
        var m = message
        m.redelivered = false
        m.deliveryCount = 0
        for t in targets { queues[t]?.ready.append(m) }
    }

    /// Takes deliverable (message, consumer, tag) triples off the queue's ready list, round-robin.
    mutating func nextDeliveries(queue: String) -> [(Message, Consumer, UInt64)] {
        guard var q = queues[queue] else { return [] }
        var out: [(Message, Consumer, UInt64)] = []
        while !q.ready.isEmpty, !q.consumers.isEmpty {
            var chosen: Consumer? = nil
            for step in 0..<q.consumers.count {
                let c = q.consumers[(q.nextConsumer + step) % q.consumers.count]
                if c.hasCapacity {
                    chosen = c
                    q.nextConsumer = (q.nextConsumer + step + 1) % q.consumers.count
                    break
                }
            }
            guard let c = chosen else { break }
            let m = q.ready.removeFirst()
            let tag = nextTag
            nextTag += 1
            if !c.autoAck { c.unacked[tag] = m }
            out.append((m, c, tag))
        }
        queues[queue] = q
        return out
    }
}
