import Foundation

/// Bounds how many compute-heavy sections (a training step, an encode, a decode) run at once
/// in this process, whatever the services' prefetch: prefetch stays a delivery setting and
/// the cores are not oversubscribed when the embedded mode hosts every service in one process.
/// Waiting suspends the task (no thread is blocked); waiters enter in arrival order.
public final class ComputeGate: @unchecked Sendable {
    /// The process's gate; `ServiceModule.prepare` sets its slots from `ServiceConfig.computeSlots`.
    public static let shared = ComputeGate(slots: 1)

    private let lock = NSLock()
    private var slots: Int
    private var busy = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var peak = 0

    /// A gate admitting `slots` (>= 1) sections at a time.
    public init(slots: Int) {
        precondition(slots >= 1, "ComputeGate: slots must be >= 1, got \(slots)")
        self.slots = slots
    }

    /// How many sections may run at once.
    public var capacity: Int { lock.withLock { slots } }
    /// Most sections seen running at once since creation.
    public var peakConcurrency: Int { lock.withLock { peak } }

    /// Changes the number of slots (>= 1); extra waiters are admitted at once.
    public func setSlots(_ n: Int) {
        precondition(n >= 1, "ComputeGate: slots must be >= 1, got \(n)")
        lock.lock()
        slots = n
        var admit: [CheckedContinuation<Void, Never>] = []
        while busy < slots, !waiters.isEmpty { busy += 1; peak = max(peak, busy); admit.append(waiters.removeFirst()) }
        lock.unlock()
        admit.forEach { $0.resume() }
    }

    /// Runs `body` once a slot is free.
    public func run<R>(_ body: () throws -> R) async rethrows -> R {
        await acquire()
        defer { release() }
        return try body()
    }

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if busy < slots {
                busy += 1; peak = max(peak, busy)
                lock.unlock()
                c.resume()
            } else {
                waiters.append(c)
                lock.unlock()
            }
        }
    }

    func release() {
        lock.lock()
        if busy <= slots, !waiters.isEmpty {
            let next = waiters.removeFirst()   // the slot passes to the next waiter
            lock.unlock()
            next.resume()
        } else {
            busy -= 1
            lock.unlock()
        }
    }
}

extension RunContext {
    /// Runs compute-heavy `body` under the process's compute gate.
    public func compute<R>(_ body: () throws -> R) async rethrows -> R {
        try await ComputeGate.shared.run(body)
    }
}
