import Foundation
import MeshKit
import RunStore
import TestKit

/// Services hosted in this process over the in-process transport, runs in a temporary SQLite
/// store, checkpoints in a temporary artifact store: the embedded mesh of the tests.
public struct InProcessMesh {
    public let dir: URL
    public let store: RunStore
    public let artifacts: ArtifactStore?
    public let transport: InProcessTransport
    public let host: MeshHost
    public let client: MeshClient

    /// Hosts `modules` (each prepared and configured by `config`, default prefetch 2).
    public static func start(modules: [any ServiceModule], worker: String = "test-\(getpid())",
                             config: ((String) -> ServiceConfig)? = nil) async throws -> InProcessMesh {
        let dir = TestRequirement.tempDir("inproc-\(worker)")
        let artifactsDir = dir.appendingPathComponent("artifacts")
        let cfg = config ?? { ServiceConfig(service: $0, artifactsDir: artifactsDir.path, prefetch: 2, worker: worker) }
        return try await start(dir: dir, withArtifacts: true) { host in try await host.start(modules: modules, config: cfg) }
    }

    /// Hosts ready-made definitions (runtime tests), without an artifact store.
    public static func start(_ definitions: [ServiceDefinition], worker: String) async throws -> InProcessMesh {
        let dir = TestRequirement.tempDir("inproc-\(worker)")
        return try await start(dir: dir, withArtifacts: false) { host in
            try await host.start(definitions) { ServiceConfig(service: $0, worker: worker) }
        }
    }

    static func start(dir: URL, withArtifacts: Bool, _ begin: (MeshHost) async throws -> Void) async throws -> InProcessMesh {
        let store = try TestEnvironment.sqliteStore(in: dir)
        let artifacts = withArtifacts ? try ArtifactStore(root: dir.appendingPathComponent("artifacts"), store: store) : nil
        let transport = InProcessTransport()
        let host = MeshHost(transport: transport, store: store, artifacts: artifacts)
        try await begin(host)
        return InProcessMesh(dir: dir, store: store, artifacts: artifacts, transport: transport, host: host,
                             client: try await MeshClient(transport: transport, clientName: "tests"))
    }

    public func stop() async {
        await client.close()
        await host.shutdown()
        await transport.close()
        store.close()
        try? FileManager.default.removeItem(at: dir)
    }
}
