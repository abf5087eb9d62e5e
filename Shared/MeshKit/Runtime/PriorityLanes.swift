/// Which waiting delivery a worker runs next: the urgent lane before the normal one, first come
/// first served within a lane, and at most `capacity` running at once.
///
/// A pure value type (no I/O, no clock): `ServiceRuntime` feeds it the deliveries of both work
/// queues and starts exactly what `arrive` and `finish` return. With prefetch P on each queue a
/// worker holds at most P running plus the deliveries waiting here, so an urgent request waits
/// for one running request at most before it starts, however long the normal queue is.
public struct PriorityLanes<Item> {
    /// Lanes, highest first: 0 = urgent, 1 = normal.
    public enum Lane: Int, CaseIterable, Sendable {
        case urgent = 0
        case normal = 1

        /// The lane of a request at `priority` (RequestMeta.priority 0...9).
        public init(priority: Int32) { self = priority > 0 ? .urgent : .normal }

        /// The lane a routing key was published to (`<method>.urgent` = urgent).
        public init(routingKey: String) {
            self = routingKey.hasSuffix(MeshTopology.urgentSuffix) ? .urgent : .normal
        }
    }

    /// Most items running at once (>= 1).
    public let capacity: Int
    /// Items started and not yet finished.
    public private(set) var running = 0
    private var waiting: [[Item]] = Lane.allCases.map { _ in [] }

    public init(capacity: Int) {
        precondition(capacity >= 1, "PriorityLanes: capacity must be >= 1, got \(capacity)")
        self.capacity = capacity
    }

    /// Items waiting in `lane`.
    public func waitingCount(_ lane: Lane) -> Int { waiting[lane.rawValue].count }

    /// An item arrived in `lane`; returns the items to start now (in order).
    public mutating func arrive(_ item: Item, lane: Lane) -> [Item] {
        waiting[lane.rawValue].append(item)
        return admit()
    }

    /// A running item finished; returns the items to start now (in order).
    public mutating func finish() -> [Item] {
        precondition(running > 0, "PriorityLanes: finish() without a running item")
        running -= 1
        return admit()
    }

    /// Removes and returns every waiting item (highest lane first), e.g. to requeue on shutdown.
    public mutating func takeWaiting() -> [Item] {
        defer { waiting = Lane.allCases.map { _ in [] } }
        return waiting.flatMap { $0 }
    }

    private mutating func admit() -> [Item] {
        var start: [Item] = []
        while running < capacity, let lane = waiting.firstIndex(where: { !$0.isEmpty }) {
            start.append(waiting[lane].removeFirst())
            running += 1
        }
        return start
    }
}

extension PriorityLanes: Sendable where Item: Sendable {}
