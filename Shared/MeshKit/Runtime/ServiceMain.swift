import Foundation
import Logging
import RunStore

/// The whole life of a service process, so each `main.swift` stays one line:
/// configuration -> logging/metrics -> store (migrated) -> transport -> runtime -> wait for
/// SIGTERM/SIGINT -> graceful shutdown -> exit 0.
public enum ServiceMain {
    /// Runs `module` as this process's only service (the whole of a `<name>-svc` main.swift).
    public static func run(_ module: some ServiceModule,
                           arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        await run(service: module.name, arguments: arguments) { config in try module.definition(config: config) }
    }

    /// Runs the service built by `makeDefinition` (prefer `run(_ module:)`).
    public static func run(service: String,
                           arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                           definition makeDefinition: @escaping (ServiceConfig) throws -> ServiceDefinition) async -> Never {
        let config: ServiceConfig
        do {
            config = try ServiceConfig.resolve(service: service, arguments: arguments)
        } catch {
            FileHandle.standardError.write(Data("\(service)-svc: \(error)\n".utf8))
            exit(2)
        }
        bootstrapLogging(level: config.logLevel)
        MeshMetrics.bootstrap()
        var logger = Logger(label: "latentmesh.\(service)")
        logger[metadataKey: "worker"] = .string(config.worker)

        guard let amqpURL = config.amqpURL else { fail(service, "MESH_AMQP_URL is not set (e.g. amqp://latentmesh:PASSWORD@127.0.0.1:5672/%2f; scripts/stack env prints it)") }
        guard let dbURL = config.databaseURL else { fail(service, "MESH_DATABASE_URL is not set (e.g. postgresql://latentmesh:PASSWORD@127.0.0.1:55432/latentmesh)") }

        do {
            let store = try await openStore(url: dbURL, logger: logger)
            let artifacts = try ArtifactStore(root: URL(fileURLWithPath: config.artifactsDir), store: store)
            let definition = try makeDefinition(config)
            let transport = try AMQPTransport(url: amqpURL, name: "\(service)-svc \(config.worker)", logger: logger)
            let runtime = ServiceRuntime(definition: definition, config: config, transport: transport, store: store,
                                         artifacts: artifacts, logger: logger)
            try await runtime.start()
            var ops: OpsServer?
            if let port = config.metricsPort {
                let server = runtime.opsServer()
                let bound = try await server.start(port: port)
                logger.info("metrics on :\(bound)/metrics (health /health, readiness /ready)")
                ops = server
            }
            let sig = await SignalWaiter.wait()
            logger.info("signal \(sig): stopping")
            await runtime.shutdown()
            await ops?.stop()
            await transport.close()
            store.close()
            exit(0)
        } catch {
            fail(service, "\(error)")
        }
    }

    /// Opens and migrates the store, retrying while the database is still starting (compose).
    static func openStore(url: String, logger: Logger) async throws -> RunStore {
        var delay = 0.25
        let until = Date().addingTimeInterval(60)
        while true {
            do {
                let store = try RunStores.open(url: url)
                try store.migrate()
                return store
            } catch {
                if Date() > until { throw error }
                logger.warning("database not ready (\(error)); retrying in \(delay) s")
                try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                delay = min(delay * 2, 4)
            }
        }
    }

    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }

    static func fail(_ service: String, _ message: String) -> Never {
        FileHandle.standardError.write(Data("\(service)-svc: \(message)\n".utf8))
        exit(1)
    }
}
