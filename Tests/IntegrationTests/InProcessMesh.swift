import Foundation
import MeshKit
import RunStore

/// Services hosted in this process over the in-process transport, runs in a temporary SQLite store.
struct InProcessMesh {
    let store: RunStore
    let transport: InProcessTransport
    let host: MeshHost
    let client: MeshClient

    static func start(_ definitions: [ServiceDefinition], worker: String) async throws -> InProcessMesh {
        let dir = TestEnvironment.tempDir("inproc-\(worker)")
        let store = try RunStores.open(url: "sqlite:" + dir.appendingPathComponent("mesh.sqlite").path)
        try store.migrate()
        let transport = InProcessTransport()
        let host = MeshHost(transport: transport, store: store, artifacts: nil)
        try await host.start(definitions) { ServiceConfig(service: $0, worker: worker) }
        return InProcessMesh(store: store, transport: transport, host: host,
                             client: try await MeshClient(transport: transport, clientName: "tests"))
    }

    func stop() async {
        await client.close()
        await host.shutdown()
        store.close()
    }
}
