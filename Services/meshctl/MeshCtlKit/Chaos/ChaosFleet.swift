import Datasets
import Foundation

/// The service processes of a chaos run (replicas sharing one artifact directory) and the
/// faults done to them and to the servers: SIGKILL a worker (and start a replacement),
/// restart RabbitMQ, restart PostgreSQL (through `scripts/stack`).
public final class ChaosFleet: @unchecked Sendable {
    /// One running service process.
    final class Replica {
        let service: String
        let worker: String
        let process = Process()
        let logURL: URL
        init(service: String, worker: String, process configure: (Process) -> Void, logURL: URL) {
            self.service = service; self.worker = worker; self.logURL = logURL
            configure(process)
        }
        var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
    }

    let binDir: URL
    let repoRoot: URL
    let workDir: URL
    let artifactsDir: URL
    let environment: [String: String]
    private let lock = NSLock()
    private var replicas: [Replica] = []
    private var spawned = 0
    private var rng: SeededRNG

    /// - Parameters:
    ///   - binDir: folder with the built `<service>-svc` executables.
    ///   - repoRoot: repository root (for `scripts/stack`).
    ///   - workDir: logs and the shared artifact directory go here.
    ///   - environment: MESH_AMQP_URL / MESH_DATABASE_URL and the stack's ports.
    public init(binDir: URL, repoRoot: URL, workDir: URL, environment: [String: String], seed: UInt64) throws {
        self.binDir = binDir; self.repoRoot = repoRoot; self.workDir = workDir; self.environment = environment
        artifactsDir = workDir.appendingPathComponent("artifacts")
        try FileManager.default.createDirectory(at: artifactsDir, withIntermediateDirectories: true)
        rng = SeededRNG(seed: seed)
    }

    /// Starts a replica of `service` and waits (up to `timeout` s) until it consumes its queue.
    @discardableResult
    func spawn(_ service: String, wait timeout: Double = 60) throws -> String {
        let n = lock.withLock { () -> Int in spawned += 1; return spawned }
        let worker = "chaos-\(service)-\(n)-\(getpid())"
        let logURL = workDir.appendingPathComponent("\(worker).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        var env = environment
        env["MESH_WORKER"] = worker
        env["MESH_PREFETCH"] = "2"
        env["MESH_ARTIFACTS_DIR"] = artifactsDir.path
        env["MESH_LOG_LEVEL"] = "info"
        env["MESH_SHUTDOWN_GRACE_S"] = "5"
        let r = Replica(service: service, worker: worker, process: { p in
            p.executableURL = self.binDir.appendingPathComponent("\(service)-svc")
            p.environment = env
            p.standardOutput = handle
            p.standardError = handle
        }, logURL: logURL)
        try r.process.run()
        lock.withLock { replicas.append(r) }
        guard timeout > 0 else { return worker }
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            if r.log.contains("serving latentmesh.\(service)") { return worker }
            if !r.process.isRunning { break }
            usleep(50_000)
        }
        throw ChaosError("\(worker) did not start within \(timeout) s; log:\n\(r.log.suffix(2000))")
    }

    /// SIGKILLs a random live replica and starts a replacement of the same service (not awaited).
    /// Returns the killed worker's name.
    func killRandomWorker() throws -> String? {
        let victim: Replica? = lock.withLock {
            let live = replicas.filter { $0.process.isRunning }
            guard !live.isEmpty else { return nil }
            return live[Int(rng.next() % UInt64(live.count))]
        }
        guard let victim else { return nil }
        kill(victim.process.processIdentifier, SIGKILL)
        _ = Self.wait(victim.process, timeout: 10)
        try spawn(victim.service, wait: 0)
        return victim.worker
    }

    /// `scripts/stack restart-rabbit` or `restart-postgres`; throws if it fails.
    func restart(_ what: String) throws {
        let p = Process()
        p.executableURL = repoRoot.appendingPathComponent("scripts/stack")
        p.arguments = [what]
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let status = Self.wait(p, timeout: 120)
        guard status == 0 else { throw ChaosError("scripts/stack \(what) exited \(status.map(String.init) ?? "(still running after 120 s)")") }
    }

    /// Stops every replica (SIGTERM, then SIGKILL after 10 s).
    func stopAll() {
        let all = lock.withLock { replicas }
        for r in all where r.process.isRunning { r.process.terminate() }
        let until = Date().addingTimeInterval(10)
        for r in all {
            while r.process.isRunning && Date() < until { usleep(50_000) }
            if r.process.isRunning { kill(r.process.processIdentifier, SIGKILL); _ = Self.wait(r.process, timeout: 5) }
        }
    }

    /// Waits for `p` to exit and returns its exit status (nil on timeout). Polls `waitpid` itself:
    /// Foundation's `waitUntilExit` was seen never to return on a helper thread after the child exited.
    static func wait(_ p: Process, timeout: Double) -> Int32? {
        let pid = p.processIdentifier
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let signalled = status & 0x7f
                return signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
            }
            if r < 0 && !p.isRunning { return p.terminationStatus }   // reaped by Foundation
            usleep(50_000)
        }
        return nil
    }

    /// The last lines of every replica's log (for failure messages).
    func logTails(_ chars: Int = 800) -> String {
        lock.withLock { replicas }.map { "--- \($0.worker)\n\($0.log.suffix(chars))" }.joined(separator: "\n")
    }
}

/// A failure of the chaos harness itself (not of the mesh).
public struct ChaosError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
