import Foundation
import Logging
import RunStore

/// Hosts several services in one process over one transport and store: the embedded mode
/// (`meshctl up`, in-process transport + SQLite) and multi-service processes in tests.
public final class MeshHost: @unchecked Sendable {
    public let transport: MeshTransport
    public let store: RunStore
    public let artifacts: ArtifactStore?
    public private(set) var runtimes: [ServiceRuntime] = []

    public init(transport: MeshTransport, store: RunStore, artifacts: ArtifactStore?) {
        self.transport = transport; self.store = store; self.artifacts = artifacts
    }

    /// Starts one runtime per definition (configs share worker name and settings).
    public func start(_ definitions: [ServiceDefinition], config: (String) -> ServiceConfig,
                      logger: Logger? = nil) async throws {
        for def in definitions {
            let rt = ServiceRuntime(definition: def, config: config(def.name), transport: transport, store: store,
                                    artifacts: artifacts, logger: logger)
            try await rt.start()
            runtimes.append(rt)
        }
    }

    /// Starts one runtime per module, each with its definition under `config(module.name)`.
    public func start(modules: [any ServiceModule], config: (String) -> ServiceConfig, logger: Logger? = nil) async throws {
        try await start(modules.map { try $0.definition(config: config($0.name)) }, config: config, logger: logger)
    }

    public func runtime(_ service: String) -> ServiceRuntime? { runtimes.first { $0.definition.name == service } }

    public func shutdown(grace: Double = 5) async {
        for rt in runtimes { await rt.shutdown(grace: grace) }
        runtimes.removeAll()
    }
}
