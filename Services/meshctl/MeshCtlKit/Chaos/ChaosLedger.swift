import Foundation

/// The client's own record of every request of a chaos run: when it was sent, whether the
/// broker confirmed the publish, and every reply that came back.
final class ChaosLedger: @unchecked Sendable {
    struct Reply: Sendable {
        var at: Date
        var runID: String
        var worker: String
        var fromStore: Bool
        var ok: Bool
        var errorCode: String
    }

    struct Entry: Sendable {
        var requestID: String
        var kind: String
        var phase: ChaosPhase
        var sent: Date
        var confirmed = false
        var replies: [Reply] = []

        /// Seconds from send to the first successful reply.
        var latency: Double? {
            replies.first(where: \.ok).map { $0.at.timeIntervalSince(sent) }
        }
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    private var waiters: [String: CheckedContinuation<Void, Never>] = [:]

    func sent(_ id: String, kind: String, phase: ChaosPhase) {
        lock.withLock {
            entries[id] = Entry(requestID: id, kind: kind, phase: phase, sent: Date())
            order.append(id)
        }
    }

    func confirmed(_ id: String) { lock.withLock { entries[id]?.confirmed = true } }

    /// Records a reply and wakes the client loop waiting for it.
    func replied(_ id: String, _ reply: Reply) {
        let waiter: CheckedContinuation<Void, Never>? = lock.withLock {
            entries[id]?.replies.append(reply)
            return waiters.removeValue(forKey: id)
        }
        waiter?.resume()
    }

    /// Waits until `id` has a reply or `timeout` seconds pass.
    func waitForReply(_ id: String, timeout: Double) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let already: Bool = lock.withLock {
                if let e = entries[id], !e.replies.isEmpty { return true }
                waiters[id] = c
                return false
            }
            if already { c.resume(); return }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                let w = lock.withLock { waiters.removeValue(forKey: id) }
                w?.resume()
            }
        }
    }

    var all: [Entry] { lock.withLock { order.compactMap { entries[$0] } } }
}
