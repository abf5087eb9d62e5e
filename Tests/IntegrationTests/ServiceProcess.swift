import Foundation
import XCTest

/// One service executable started as a child process against the test stack.
final class ServiceProcess {
    let service: String
    let worker: String
    let process = Process()
    let logURL: URL

    init(_ service: String, worker: String, prefetch: Int = 4, graceSeconds: Double = 20,
         extraEnv: [String: String] = [:]) throws {
        self.service = service
        self.worker = worker
        let dir = TestEnvironment.tempDir("svc-\(worker)")
        logURL = dir.appendingPathComponent("\(worker).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = TestEnvironment.binDir.appendingPathComponent("\(service)-svc")
        var env = ProcessInfo.processInfo.environment
        env["MESH_AMQP_URL"] = try TestEnvironment.amqpURL()
        env["MESH_DATABASE_URL"] = try TestEnvironment.databaseURL()
        env["MESH_WORKER"] = worker
        env["MESH_PREFETCH"] = String(prefetch)
        env["MESH_SHUTDOWN_GRACE_S"] = String(graceSeconds)
        env["MESH_ARTIFACTS_DIR"] = dir.appendingPathComponent("artifacts").path
        env["MESH_LOG_LEVEL"] = "info"
        for (k, v) in extraEnv { env[k] = v }
        process.environment = env
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
    }

    /// Starts the process and waits until it consumes its queue.
    func start(timeout: TimeInterval = 30) throws {
        try process.run()
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            if log.contains("serving latentmesh.\(service)") { return }
            if !process.isRunning { break }
            usleep(50_000)
        }
        throw NSError(domain: "ServiceProcess", code: 1,
                      userInfo: [NSLocalizedDescriptionKey: "\(worker) did not start; log:\n\(log)"])
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits for exit; returns the exit status, or nil on timeout.
    func waitExit(timeout: TimeInterval) -> Int32? {
        let until = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < until { usleep(50_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func stop() {
        guard process.isRunning else { return }
        signal(SIGTERM)
        if waitExit(timeout: 15) == nil { signal(SIGKILL); _ = waitExit(timeout: 5) }
    }

    deinit { stop() }
}
