import Foundation

/// Which waiting requests a worker samples together: requests with the same key (model,
/// sampler, steps, ...) form one batch of at most `maxItems` items (images), started when no
/// batch of that key is running and either enough items wait or the oldest has waited
/// `maxWait`. Requests that arrive while a batch runs join it at a step boundary when it has room
/// (`join`), otherwise they wait for the next one. Urgent requests are
/// taken before normal ones, otherwise first come first served; a request larger than
/// `maxItems` is a batch of its own.
///
/// A pure value type (no I/O; the caller passes the clock): the service's batcher feeds it
/// arrivals, finished batches and timer ticks, and starts exactly the batches it returns; `wakeAt`
/// says when to tick next.
public struct BatchPlanner<Key: Hashable & Sendable, ID: Hashable & Sendable>: Sendable {
    /// One waiting request.
    public struct Entry: Sendable, Equatable where ID: Equatable {
        public var id: ID
        public var items: Int
        public var urgent: Bool
        public var arrived: Double
    }

    /// A batch to start now: its key and its requests in row order.
    public struct Batch: Sendable, Equatable {
        public var key: Key
        public var ids: [ID]
        public var items: Int
        public init(key: Key, ids: [ID], items: Int) { self.key = key; self.ids = ids; self.items = items }
    }

    /// Most items (images) in one batch (>= 1).
    public let maxItems: Int
    /// Longest a request waits for company (seconds) while nothing of its key runs.
    public let maxWait: Double
    private var waiting: [Key: [Entry]] = [:]
    private var running: Set<Key> = []

    public init(maxItems: Int, maxWait: Double) {
        precondition(maxItems >= 1, "BatchPlanner: maxItems must be >= 1, got \(maxItems)")
        precondition(maxWait >= 0, "BatchPlanner: maxWait must be >= 0, got \(maxWait)")
        self.maxItems = maxItems; self.maxWait = maxWait
    }

    /// Requests waiting under `key`.
    public func waitingCount(_ key: Key) -> Int { waiting[key]?.count ?? 0 }
    /// Whether a batch of `key` is running.
    public func isRunning(_ key: Key) -> Bool { running.contains(key) }

    /// A request of `items` items arrived at `now`; returns the batches to start now.
    public mutating func arrive(_ id: ID, key: Key, items: Int, urgent: Bool = false, now: Double) -> [Batch] {
        waiting[key, default: []].append(Entry(id: id, items: max(1, items), urgent: urgent, arrived: now))
        return admit(now: now)
    }

    /// Removes a waiting request (cancelled before its batch started); true if it was waiting.
    public mutating func withdraw(_ id: ID) -> Bool {
        for (key, list) in waiting {
            if let i = list.firstIndex(where: { $0.id == id }) {
                waiting[key]!.remove(at: i)
                if waiting[key]!.isEmpty { waiting[key] = nil }
                return true
            }
        }
        return false
    }

    /// The batch of `key` finished at `now`; returns the batches to start now.
    public mutating func finish(_ key: Key, now: Double) -> [Batch] {
        precondition(running.contains(key), "BatchPlanner: finish(\(key)) without a running batch")
        running.remove(key)
        return admit(now: now)
    }

    /// Requests of `key` that join its running batch now, at a step boundary, filling at most
    /// `room` items: urgent first, then arrival order, stopping at the first that does not fit (so
    /// a large request is not overtaken forever; it starts the next batch). They need no wait: the
    /// batch is already running.
    public mutating func join(_ key: Key, room: Int) -> [ID] {
        precondition(running.contains(key), "BatchPlanner: join(\(key)) without a running batch")
        guard room > 0, let list = waiting[key] else { return [] }
        let order = list.indices.sorted { (list[$0].urgent ? 0 : 1, list[$0].arrived, $0) < (list[$1].urgent ? 0 : 1, list[$1].arrived, $1) }
        var taken: Set<Int> = [], items = 0
        for i in order {
            guard items + list[i].items <= room else { break }
            taken.insert(i); items += list[i].items
        }
        guard !taken.isEmpty else { return [] }
        let rest = list.indices.filter { !taken.contains($0) }.map { list[$0] }
        waiting[key] = rest.isEmpty ? nil : rest
        return order.filter { taken.contains($0) }.map { list[$0].id }
    }

    /// The clock reached `now`; returns the batches whose wait is over.
    public mutating func tick(now: Double) -> [Batch] { admit(now: now) }

    /// When the next batch becomes due by its wait (nil: none waits on the clock).
    public var wakeAt: Double? {
        waiting.filter { !running.contains($0.key) }.compactMap { $0.value.map(\.arrived).min() }.min().map { $0 + maxWait }
    }

    private mutating func admit(now: Double) -> [Batch] {
        var start: [Batch] = []
        // Oldest first across keys, so a busy key cannot starve another.
        let keys = waiting.keys.filter { !running.contains($0) }
            .sorted { (waiting[$0]!.map(\.arrived).min() ?? 0) < (waiting[$1]!.map(\.arrived).min() ?? 0) }
        for key in keys {
            let list = waiting[key]!
            let total = list.reduce(0) { $0 + $1.items }
            let oldest = list.map(\.arrived).min()!
            guard total >= maxItems || now - oldest >= maxWait else { continue }
            // Urgent first, then arrival order; fill up to maxItems (the first request always goes).
            let order = list.indices.sorted { (list[$0].urgent ? 0 : 1, list[$0].arrived, $0) < (list[$1].urgent ? 0 : 1, list[$1].arrived, $1) }
            var taken: [Int] = [], items = 0
            for i in order where taken.isEmpty || items + list[i].items <= maxItems {
                taken.append(i); items += list[i].items
                if items >= maxItems { break }
            }
            let chosen = Set(taken)
            start.append(Batch(key: key, ids: taken.map { list[$0].id }, items: items))
            let rest = list.indices.filter { !chosen.contains($0) }.map { list[$0] }
            waiting[key] = rest.isEmpty ? nil : rest
            running.insert(key)
        }
        return start
    }
}
