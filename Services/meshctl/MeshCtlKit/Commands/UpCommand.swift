import ArgumentParser
import Foundation
import MeshKit
import MeshProto
import ServiceCatalog

/// `meshctl up`: all five services in this process (embedded, or over a stack's broker).
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run all five services in one process until SIGINT/SIGTERM (embedded by default).")

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Check every service answers health, print the table, and exit (for scripts).")
    var check = false

    func run() async throws {
        let session = try await MeshSession.open(connection, hostServices: true)
        if session.mode == .stack {
            // Over a real broker, host the five services here too.
            let host = MeshHost(transport: session.transport, store: session.store, artifacts: session.artifacts)
            let config = { (name: String) in ServiceConfig(service: name, artifactsDir: session.artifacts.root.path) }
            try await host.start(try ServiceCatalog.all(config: config), config: config)
            try await report(session)
            if !check { _ = await SignalWaiter.wait() }
            await host.shutdown()
        } else {
            try await report(session)
            if !check {
                print("embedded mesh up (store \(session.home.path)/mesh.sqlite); Ctrl-C to stop")
                _ = await SignalWaiter.wait()
            }
        }
        await session.close()
    }

    func report(_ session: MeshSession) async throws {
        print("LatentMesh (\(session.mode.rawValue): transport \(session.transport.kind), store \(session.store.backend))")
        print(pad("SERVICE", 12) + pad("SERVING", 9) + pad("WORKER", 26) + "RTT")
        var failures = 0
        for name in ServiceCatalog.names {
            let t0 = Date()
            do {
                let a = try await session.client.call("\(name).health", Latentmesh_V1_HealthRequest(),
                                                      as: Latentmesh_V1_HealthStatus.self, timeout: .seconds(15))
                let ms = Date().timeIntervalSince(t0) * 1000
                print(pad(name, 12) + pad(a.response.serving ? "yes" : "no", 9) + pad(a.response.worker, 26)
                      + String(format: "%.1f ms", ms))
            } catch {
                failures += 1
                print(pad(name, 12) + pad("NO", 9) + "\(error)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

func pad(_ s: String, _ n: Int) -> String {
    s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
}
