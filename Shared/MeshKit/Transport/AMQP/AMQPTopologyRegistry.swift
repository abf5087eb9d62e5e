import Foundation

/// The services declared through one transport, re-declared by every connection after a (re)connect.
final class AMQPTopologyRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var services: [String: [String]] = [:]

    func add(service: String, routingKeys: [String]) {
        lock.lock(); defer { lock.unlock() }
        var keys = services[service] ?? []
        for k in routingKeys where !keys.contains(k) { keys.append(k) }
        services[service] = keys
    }

    var snapshot: [String: [String]] {
        lock.lock(); defer { lock.unlock() }
        return services
    }
}

/// A lock-protected FIFO of commands for a connection's owner thread, with a wake-up semaphore.
final class CommandInbox<Command>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Command] = []
    private let signal = DispatchSemaphore(value: 0)

    func push(_ command: Command) {
        lock.lock(); items.append(command); lock.unlock()
        signal.signal()
    }

    func pushFront(_ commands: [Command]) {
        guard !commands.isEmpty else { return }
        lock.lock(); items.insert(contentsOf: commands, at: 0); lock.unlock()
    }

    func takeAll() -> [Command] {
        lock.lock(); defer { lock.unlock() }
        let out = items
        items.removeAll(keepingCapacity: true)
        return out
    }

    /// Wakes a thread sleeping in `wait` without queuing a command.
    func pokeWaiters() { signal.signal() }

    var isEmpty: Bool { lock.lock(); defer { lock.unlock() }; return items.isEmpty }

    /// Sleeps until a command arrives or `seconds` pass.
    func wait(seconds: Double) {
        _ = signal.wait(timeout: .now() + seconds)
    }
}

/// Exponential reconnect backoff: 100 ms doubling up to a cap (5 s).
struct Backoff {
    var initial: Double = 0.1
    var cap: Double = 5
    private(set) var next: Double = 0.1

    mutating func failure() -> Double {
        let d = next
        next = min(cap, next * 2)
        return d
    }

    mutating func reset() { next = initial }
}
