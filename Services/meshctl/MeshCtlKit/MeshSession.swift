import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore
import ServiceCatalog
import SwiftProtobuf

/// What meshctl talks to: the embedded mesh (all five services in this process over the
/// in-process transport, runs in SQLite under `.latentmesh/`) or a real stack
/// (RabbitMQ + PostgreSQL).
public final class MeshSession: @unchecked Sendable {
    public enum Mode: String { case embedded, stack }

    public let mode: Mode
    public let transport: MeshTransport
    public let store: RunStore
    public let artifacts: ArtifactStore
    public let host: MeshHost?
    public let client: MeshClient
    public let home: URL

    init(mode: Mode, transport: MeshTransport, store: RunStore, artifacts: ArtifactStore, host: MeshHost?,
         client: MeshClient, home: URL) {
        self.mode = mode; self.transport = transport; self.store = store; self.artifacts = artifacts
        self.host = host; self.client = client; self.home = home
    }

    /// Opens a session. With `hostServices` the embedded mode starts the five services here.
    public static func open(_ options: ConnectionOptions, hostServices: Bool = true,
                            logger: Logger = Logger(label: "meshctl")) async throws -> MeshSession {
        let home = URL(fileURLWithPath: options.home)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        if let amqp = options.resolvedAMQP {
            guard let db = options.resolvedDB else {
                throw ValidationFailure("--db (or MESH_DATABASE_URL) is required with --amqp: runs are read from the stack's PostgreSQL")
            }
            let store = try RunStores.open(url: db)
            try store.migrate()
            let artifacts = try ArtifactStore(root: home.appendingPathComponent("artifacts"), store: store)
            let transport = try AMQPTransport(url: amqp, name: "meshctl", logger: logger)
            let client = try await MeshClient(transport: transport)
            return MeshSession(mode: .stack, transport: transport, store: store, artifacts: artifacts, host: nil,
                               client: client, home: home)
        }
        let store = try RunStores.open(url: "sqlite:" + home.appendingPathComponent("mesh.sqlite").path)
        try store.migrate()
        let artifacts = try ArtifactStore(root: home.appendingPathComponent("artifacts"), store: store)
        let transport = InProcessTransport()
        var host: MeshHost?
        if hostServices {
            let h = MeshHost(transport: transport, store: store, artifacts: artifacts)
            let worker = "meshctl-\(getpid())"
            let config = { (name: String) in
                ServiceConfig(service: name, artifactsDir: artifacts.root.path, prefetch: 2, worker: worker)
            }
            try await h.start(modules: ServiceCatalog.modules, config: config)
            host = h
        }
        let client = try await MeshClient(transport: transport)
        return MeshSession(mode: .embedded, transport: transport, store: store, artifacts: artifacts, host: host,
                           client: client, home: home)
    }

    /// Opens a session, runs `body`, and always closes the session (also when `body` throws).
    public static func with<R>(_ options: ConnectionOptions, hostServices: Bool = true,
                               _ body: (MeshSession) async throws -> R) async throws -> R {
        let session = try await open(options, hostServices: hostServices)
        do {
            let r = try await body(session)
            await session.close()
            return r
        } catch {
            await session.close()
            throw error
        }
    }

    /// Calls a long-running method while the progress follower draws the run's progress.
    public func callFollowing<Request: MeshRequest, Response: SwiftProtobuf.Message>(
        _ routingKey: String, _ request: Request, as: Response.Type, timeout: Duration = .seconds(7 * 86_400)
    ) async throws -> MeshClient.Answer<Response> {
        var req = request
        if req.meta.requestID.isEmpty { req.meta.requestID = UUID().uuidString.lowercased() }
        let follower = ProgressFollower(store: store, target: .requestID(req.meta.requestID))
        let watcher = Task { _ = try? await follower.follow() }
        defer { watcher.cancel() }
        let answer = try await client.call(routingKey, req, as: Response.self, timeout: timeout)
        try? store.flush()
        _ = try? follower.poll()
        print("")
        return answer
    }

    public func close() async {
        await client.close()
        await host?.shutdown()
        await transport.close()
        store.close()
    }
}

/// A user-facing error that names what to fix.
public struct ValidationFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
