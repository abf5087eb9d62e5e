import ArgumentParser
import Foundation
import MeshKit
import MeshProto
import RunStore

/// `meshctl watch RUN_ID`: a progress bar fed by the run's events until it ends.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Follow a run's progress until it finishes.")

    @Argument(help: "Run id.") var runID: String
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Give up after this many seconds (0 = never).") var timeout: Double = 0

    func run() async throws {
        let store = try openStore(connection)
        defer { store.close() }
        guard try store.run(id: runID) != nil || connection.resolvedAMQP != nil else {
            throw ValidationFailure("no run '\(runID)' in \(store.backend) store")
        }
        let bar = ProgressBar()
        let deadline = timeout > 0 ? Date().addingTimeInterval(timeout) : nil
        if let amqp = connection.resolvedAMQP {
            // Live events from the broker; the store tells us when it is over.
            let transport = try AMQPTransport(url: amqp, name: "meshctl watch", logger: .init(label: "meshctl"))
            let sub = try await EventBus(transport: transport).subscribe(runID: runID) { _, e in
                if case .progress(let p)? = e.payload {
                    bar.update(step: Int(p.step), total: Int(p.total), metrics: p.metrics, rate: p.itemsPerS)
                }
            }
            while true {
                if let r = try store.run(id: runID), r.status.isTerminal { bar.finish(r); break }
                if let deadline, Date() > deadline { throw ValidationFailure("timed out watching \(runID)") }
                try await Task.sleep(nanoseconds: 200_000_000)
            }
            await sub.cancel()
            await transport.close()
        } else {
            // Embedded: progress events are in the audit store.
            var seen = 0
            while true {
                let events = try store.events(runID: runID, limit: 100_000)
                for e in events.dropFirst(seen) where e.type == "progress" {
                    if let o = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any] {
                        bar.update(step: o["step"] as? Int ?? 0, total: o["total"] as? Int ?? 0,
                                   metrics: o["metrics"] as? [String: Double] ?? [:], rate: o["items_per_s"] as? Double ?? 0)
                    }
                }
                seen = events.count
                if let r = try store.run(id: runID), r.status.isTerminal { bar.finish(r); break }
                if let deadline, Date() > deadline { throw ValidationFailure("timed out watching \(runID)") }
                try await Task.sleep(nanoseconds: 250_000_000)
            }
        }
    }
}

/// A one-line terminal progress bar.
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    func update(step: Int, total: Int, metrics: [String: Double], rate: Double) {
        lock.lock(); defer { lock.unlock() }
        let width = 30
        let frac = total > 0 ? min(1, Double(step) / Double(total)) : 0
        let filled = Int(frac * Double(width))
        let m = metrics.sorted { $0.key < $1.key }.prefix(4).map { "\($0.key)=\(String(format: "%.4g", $0.value))" }
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(step)/\(total) " + (rate > 0 ? String(format: "%.1f/s ", rate) : "") + m.joined(separator: " ")
        FileHandle.standardOutput.write(Data(("\r" + line).utf8))
    }

    func finish(_ r: RunRecord) {
        lock.lock(); defer { lock.unlock() }
        var s = "\nrun \(r.runID) \(r.status.rawValue)"
        if let d = r.durationMs { s += String(format: " in %.1f s", d / 1000) }
        if let e = r.error { s += ": \(e.code) \(e.field) \(e.message)" }
        print(s)
    }
}
