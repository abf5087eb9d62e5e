import Foundation
import MeshTesting
import Logging
import MeshKit
import RunStore
import XCTest

/// The operations endpoint (Hummingbird 2): liveness under idle and slow clients, readiness,
/// and the connection/size limits.
final class OpsServerTests: XCTestCase {
    /// The bound metrics port a service logged ("metrics on :PORT/metrics").
    static func metricsPort(_ svc: ServiceProcess) throws -> Int {
        var port: Int?
        _ = TestEnvironment.waitUntil(10, "metrics port in the log") {
            if let r = svc.log.range(of: #"metrics on :(\d+)/"#, options: .regularExpression) {
                port = Int(svc.log[r].dropFirst("metrics on :".count).dropLast())
            }
            return port != nil
        }
        return try XCTUnwrap(port, svc.log)
    }

    /// A real service process: with 50 idle connections and a slow-drip request open, `/health`
    /// still answers in under a second (the old serial endpoint took > 10 s with 20 idle ones).
    func testHealthAnswersWithin1sUnder50IdleConnectionsAndSlowDrip() throws {
        let svc = try ServiceProcess("tokenizer", worker: "ops-\(getpid())", extraEnv: ["MESH_METRICS_PORT": "0"])
        try svc.start()
        defer { svc.stop() }
        let port = try Self.metricsPort(svc)
        let ready = try HTTPProbe.get(port: port, "/ready")
        XCTAssertEqual(ready.status, 200, "readiness of a connected service: \(ready.text)")
        XCTAssertTrue(ready.text.contains("ready tokenizer"), ready.text)

        let crowd = try HTTPProbe.Crowd(port: port, idle: 50, drip: true)
        defer { crowd.close() }
        Thread.sleep(forTimeInterval: 0.5)
        for _ in 0..<3 {
            let h = try HTTPProbe.get(port: port, "/health", timeout: 5)
            XCTAssertEqual(h.status, 200, h.text)
            XCTAssertLessThan(h.seconds, 1.0, "/health took \(h.seconds) s with 50 idle connections + a slow drip")
        }
        let m = try HTTPProbe.get(port: port, "/metrics")
        XCTAssertEqual(m.status, 200)
        XCTAssertTrue(m.text.contains("text/plain"), m.text.prefix(300).description)
    }

    /// Oversized headers and bodies are refused; idle connections are closed after the idle timeout.
    func testLimitsRefuseOversizedRequestsAndCloseIdleConnections() async throws {
        let server = OpsServer(host: "127.0.0.1",
                               limits: .init(maxConnections: 16, idleTimeout: 1, maxHeaderBytes: 1024, maxBodyBytes: 16),
                               logger: Logger(label: "test.ops"),
                               metrics: { "# metrics\n" },
                               health: { .init(ok: true, text: "ok") },
                               ready: { .init(ok: false, text: "not ready: model m not loaded") })
        let port = try await server.start(port: 0)
        defer { Task { await server.stop() } }

        let ok = try HTTPProbe.get(port: port, "/health")
        XCTAssertEqual(ok.status, 200)
        let notReady = try HTTPProbe.get(port: port, "/ready")
        XCTAssertEqual(notReady.status, 503)
        XCTAssertTrue(notReady.text.contains("model m not loaded"), notReady.text)
        XCTAssertEqual(try HTTPProbe.get(port: port, "/nope").status, 404)

        let bigHeader = try HTTPProbe.request(
            port: port, "GET /health HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "b", count: 4096))\r\nConnection: close\r\n\r\n")
        XCTAssertNotEqual(bigHeader.status, 200, "a 4 KB header over the 1 KB limit must be refused")

        let bigBody = try HTTPProbe.request(
            port: port, "GET /health HTTP/1.1\r\nHost: t\r\nContent-Length: 64\r\nConnection: close\r\n\r\n\(String(repeating: "x", count: 64))")
        XCTAssertEqual(bigBody.status, 413, bigBody.text)
        XCTAssertTrue(bigBody.text.contains("ops.max_body_bytes"), bigBody.text)

        let idle = try HTTPProbe.connect(port: port)
        defer { close(idle) }
        let t0 = Date()
        let got = HTTPProbe.readAll(idle, timeout: 5)
        XCTAssertEqual(got, "", "the server closes an idle connection (EOF), not the client's timeout")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 4)
    }

    /// Readiness names what is missing: not consuming yet, then the service's own check.
    func testReadinessNamesWhatIsMissing() async throws {
        let dir = TestEnvironment.tempDir("ready")
        let store = try TestEnvironment.sqliteStore(in: dir)
        defer { store.close() }
        let loaded = Flag()
        var def = ServiceDefinition(name: "readyprobe")
        def.readiness = { loaded.value ? nil : "model readyprobe-m not loaded" }
        let runtime = ServiceRuntime(definition: def, config: ServiceConfig(service: "readyprobe", worker: "w"),
                                     transport: InProcessTransport(), store: store)
        let before = await runtime.readiness()
        XCTAssertFalse(before.ok)
        XCTAssertTrue(before.text.contains("not consuming latentmesh.readyprobe"), before.text)
        try await runtime.start()
        let during = await runtime.readiness()
        XCTAssertFalse(during.ok)
        XCTAssertEqual(during.text, "not ready: model readyprobe-m not loaded")
        loaded.value = true
        let after = await runtime.readiness()
        XCTAssertTrue(after.ok, after.text)
        await runtime.shutdown(grace: 0)
        let stopped = await runtime.readiness()
        XCTAssertFalse(stopped.ok)
        XCTAssertTrue(stopped.text.contains("shutting down"), stopped.text)
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var v = false
    var value: Bool {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}
