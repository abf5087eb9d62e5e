import ArgumentParser
import Foundation
import MeshKit
import RunStore

/// `meshctl watch RUN_ID`: follows a run's progress until it ends (the one progress follower,
/// reading the run's audit events: the same in embedded and stack mode).
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Follow a run's progress until it finishes.")

    @Argument(help: "Run id or request id.") var id: String
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Give up after this many seconds (0 = never).") var timeout: Double = 0
    @Option(help: "Service of a run still queued (not in the audit yet): shows its queue position and ETA.")
    var service: String?
    @Option(help: "Priority the queued request was sent with (0 = normal lane, 1-9 = urgent lane).") var priority: Int32 = 0

    func run() async throws {
        let store = try openStore(connection)
        defer { store.close() }
        let target: ProgressFollower.Target
        if try store.run(id: id) != nil { target = .runID(id) }
        else if try store.run(requestID: id) != nil { target = .requestID(id) }
        else if service != nil { target = .runID(id) }
        else {
            throw ValidationFailure("no run with run id or request id '\(id)' in the \(store.backend) store "
                                    + "(a request still queued: add --service NAME)")
        }
        var queue: QueueWatch?
        var transport: MeshTransport?
        if let service, let amqp = connection.resolvedAMQP {
            let t = try AMQPTransport(url: amqp, name: "meshctl-watch")
            transport = t
            queue = QueueWatch(transport: t, store: store, service: service, priority: priority)
        }
        let follower = ProgressFollower(store: store, target: target, queue: queue)
        defer { if let transport { Task { await transport.close() } } }
        _ = try await follower.follow(until: timeout > 0 ? Date().addingTimeInterval(timeout) : nil)
    }
}
