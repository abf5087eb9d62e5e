import Foundation
import TestKit
import XCTest

/// One service executable started as a child process against the test stack. A process that
/// is not built, or exits / never serves at start, is an error (a failure, never a skip).
public final class ServiceProcess {
    public let service: String
    public let worker: String
    public let process = Process()
    public let logURL: URL
    /// The process's artifact root (MESH_ARTIFACTS_DIR).
    public let artifactsDir: URL

    /// - artifacts: shared artifact root (replicas on one volume); default a fresh folder.
    public init(_ service: String, worker: String, prefetch: Int = 4, graceSeconds: Double = 20,
                artifacts: URL? = nil, extraEnv: [String: String] = [:]) throws {
        self.service = service
        self.worker = worker
        let dir = TestEnvironment.tempDir("svc-\(worker)")
        logURL = dir.appendingPathComponent("\(worker).log")
        artifactsDir = artifacts ?? dir.appendingPathComponent("artifacts")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = try TestEnvironment.executable("\(service)-svc")
        var env = ProcessInfo.processInfo.environment
        env["MESH_AMQP_URL"] = try TestEnvironment.amqpURL()
        env["MESH_DATABASE_URL"] = try TestEnvironment.databaseURL()
        env["MESH_WORKER"] = worker
        env["MESH_PREFETCH"] = String(prefetch)
        env["MESH_SHUTDOWN_GRACE_S"] = String(graceSeconds)
        env["MESH_ARTIFACTS_DIR"] = artifactsDir.path
        env["MESH_LOG_LEVEL"] = "info"
        for (k, v) in extraEnv { env[k] = v }
        process.environment = env
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
    }

    /// Why a service process did not come up.
    public struct StartFailure: Error, CustomStringConvertible { public let description: String }

    /// Starts the process and waits until it consumes its queue; throws `StartFailure` (the
    /// test fails) if it exits or does not serve within `timeout`.
    public func start(timeout: TimeInterval = 60) throws {
        try process.run()
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            if log.contains("serving latentmesh.\(service)") { return }
            if !process.isRunning { break }
            usleep(50_000)
        }
        let how = process.isRunning ? "did not serve within \(timeout) s" : "exited with status \(process.terminationStatus)"
        throw StartFailure(description: "\(service)-svc \(worker) \(how); log:\n\(log)")
    }

    public var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    public func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// SIGKILL and reap (a crashed worker).
    public func kill9() { signal(SIGKILL); process.waitUntilExit() }

    /// Waits for exit; returns the exit status, or nil on timeout.
    public func waitExit(timeout: TimeInterval) -> Int32? {
        let until = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < until { usleep(50_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    public func stop() {
        guard process.isRunning else { return }
        signal(SIGTERM)
        if waitExit(timeout: 15) == nil { signal(SIGKILL); _ = waitExit(timeout: 5) }
    }

    deinit { stop() }
}
