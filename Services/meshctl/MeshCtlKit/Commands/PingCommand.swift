import ArgumentParser
import Foundation
import MeshKit
import MeshProto
import ServiceCatalog

/// `meshctl ping SERVICE`: the backbone's probe, with optional simulated work.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping", abstract: "Send a ping request through the mesh and print the reply and its round trip.")

    @Argument(help: "Service to ping.") var service: String
    @Option(help: "Simulated work in ms (0...30000).") var workMs: Int32 = 0
    @Option(help: "Request id (idempotency key); default a fresh one.") var requestID: String?
    @Option(help: "Number of pings.") var count = 1
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard ServiceCatalog.names.contains(service) else {
            throw ValidationError("unknown service '\(service)': expected one of \(ServiceCatalog.names.joined(separator: ", "))")
        }
        guard (1...100_000).contains(count) else { throw ValidationError("--count \(count) is out of range 1...100000") }
    }

    func run() async throws {
        let session = try await MeshSession.open(connection)
        for _ in 0..<count {
            var req = Latentmesh_V1_PingRequest()
            req.workMs = workMs
            req.payload = Data("ping".utf8)
            if let requestID { req.meta.requestID = requestID }
            let t0 = Date()
            do {
                let a = try await session.client.call("\(service).ping", req, as: Latentmesh_V1_PingResponse.self)
                print(String(format: "%@ run %@ worker %@ %.2f ms%@", service, a.reply.runID, a.response.worker,
                             Date().timeIntervalSince(t0) * 1000, a.reply.fromStore ? " (stored result)" : ""))
            } catch {
                print("\(service): \(error)")
                await session.close()
                throw ExitCode(1)
            }
        }
        await session.close()
    }
}

/// `meshctl cancel RUN_ID`.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a running run by id.")
    @Argument(help: "Run id.") var runID: String
    @Option(help: "Reason recorded with the cancellation.") var reason = "cancelled by meshctl"
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let session = try await MeshSession.open(connection, hostServices: false)
        try await session.client.cancel(runID: runID, reason: reason)
        print("cancellation of \(runID) published")
        await session.close()
    }
}

/// `meshctl dead-letters`: requests that could not be processed.
struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "Show dead-lettered requests: audit records, and with a stack the broker's dead-letter queue.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Also remove (and print) messages from the broker's dead-letter queue.") var drain = false
    @Option(help: "At most this many.") var limit = 50
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let store = try openStore(connection)
        defer { store.close() }
        let runs = try store.listRuns(.init(status: .deadLettered, limit: limit))
        var queued: Int?
        var drained: [[String: Any]] = []
        if let amqp = connection.resolvedAMQP {
            let t = try AMQPTransport(url: amqp, name: "meshctl dead-letters", logger: .init(label: "meshctl"))
            try await t.declareService("meshctl", routingKeys: [])
            queued = try await t.messageCount(queue: MeshTopology.deadLetterQueue)
            if drain {
                for d in try await t.drain(queue: MeshTopology.deadLetterQueue, limit: limit) {
                    drained.append(["routing_key": d.routingKey, "message_id": d.properties.messageID ?? "",
                                    "bytes": d.body.count, "headers": d.properties.headers])
                }
            }
            await t.close()
        }
        if json {
            var o: [String: Any] = ["recorded": runs.map(runJSON)]
            if let queued { o["broker_queue_depth"] = queued }
            if drain { o["drained"] = drained }
            printJSON(o)
            return
        }
        print("\(runs.count) dead-lettered run(s) recorded" + (queued.map { "; \($0) message(s) in \(MeshTopology.deadLetterQueue)" } ?? ""))
        for r in runs {
            print("  \(r.runID)  \(r.kind)  request \(r.requestID)  \(r.error?.message ?? "")")
        }
        for d in drained { print("  drained: \(d)") }
    }
}
