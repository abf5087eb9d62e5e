import Foundation
import Logging
import RunStore

/// Resolved configuration of one service process: from flags and environment, with
/// credentials taken only from the environment.
///
/// Environment: MESH_AMQP_URL, MESH_DATABASE_URL (may carry credentials), MESH_ARTIFACTS_DIR,
/// MESH_PREFETCH, MESH_METRICS_PORT, MESH_WORKER, MESH_BLAS_THREADS, MESH_COMPUTE_SLOTS, MESH_LOG_LEVEL,
/// MESH_SHUTDOWN_GRACE_S, MESH_MAX_BATCH, MESH_MAX_BATCH_WAIT_MS.
public struct ServiceConfig: Sendable, Equatable {
    public var service: String
    public var amqpURL: String?
    public var databaseURL: String?
    public var artifactsDir: String
    public var prefetch: Int
    public var metricsPort: Int?          // nil = no HTTP endpoint
    public var worker: String
    /// Compute-core worker threads (GEMM split + elementwise); 0 = the core's default (2).
    /// Applied by `ServiceModule.prepare(config:)`.
    public var blasThreads: Int
    /// Compute-heavy sections (training steps, encodes, decodes) this process runs at once
    /// (`ComputeGate`), independent of prefetch. Applied by `ServiceModule.prepare(config:)`.
    public var computeSlots: Int
    public var logLevel: Logger.Level
    public var shutdownGraceSeconds: Double
    /// A run with no progress event and no heartbeat for this long is cancelled and its message
    /// requeued for another worker (0 disables the watchdog).
    public var stallTimeoutSeconds: Double = 600
    /// Largest message body accepted (bytes); larger deliveries are dead-lettered before decoding.
    public var maxMessageBytes: Int = MeshTopology.maxMessageBytes
    /// Most items (images) a batching service (generator-svc) samples in one batch; 1 = no batching.
    public var maxBatch: Int = 16
    /// Longest a request waits for others to batch with while the service is idle (milliseconds).
    public var maxBatchWaitMs: Int = 2

    public init(service: String, amqpURL: String? = nil, databaseURL: String? = nil,
                artifactsDir: String = ".latentmesh/artifacts", prefetch: Int = 4, metricsPort: Int? = nil,
                worker: String = ServiceConfig.defaultWorker(), blasThreads: Int = 0,
                computeSlots: Int = 1, logLevel: Logger.Level = .info, shutdownGraceSeconds: Double = 20) {
        self.service = service; self.amqpURL = amqpURL; self.databaseURL = databaseURL
        self.artifactsDir = artifactsDir; self.prefetch = prefetch; self.metricsPort = metricsPort
        self.worker = worker; self.blasThreads = blasThreads; self.computeSlots = computeSlots
        self.logLevel = logLevel
        self.shutdownGraceSeconds = shutdownGraceSeconds
    }

    public static func defaultWorker() -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let host = String(cString: name)
        return "\(host.isEmpty ? "host" : host)-\(getpid())"
    }

    public struct ConfigError: Error, CustomStringConvertible, Equatable {
        public var field: String
        public var message: String
        public var description: String { "configuration error: \(field): \(message)" }
    }

    /// Parses `--name value` flags over environment values over defaults.
    /// Flags: --prefetch N, --metrics-port P, --worker NAME, --artifacts DIR, --blas-threads N,
    /// --compute-slots N, --max-batch N, --max-batch-wait-ms MS, --log-level LEVEL, --shutdown-grace S. URLs with credentials are refused as flags.
    public static func resolve(service: String, arguments: [String],
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServiceConfig {
        var c = ServiceConfig(service: service)
        let env = environment
        c.amqpURL = env["MESH_AMQP_URL"].flatMap { $0.isEmpty ? nil : $0 }
        c.databaseURL = env["MESH_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let v = env["MESH_ARTIFACTS_DIR"], !v.isEmpty { c.artifactsDir = v }
        if let v = env["MESH_WORKER"], !v.isEmpty { c.worker = v }
        if let v = env["MESH_PREFETCH"] { c.prefetch = try int(v, "MESH_PREFETCH", 1...1000) }
        if let v = env["MESH_METRICS_PORT"] { c.metricsPort = try int(v, "MESH_METRICS_PORT", 0...65535) }
        if let v = env["MESH_BLAS_THREADS"] { c.blasThreads = try int(v, "MESH_BLAS_THREADS", 1...64) }
        if let v = env["MESH_COMPUTE_SLOTS"] { c.computeSlots = try int(v, "MESH_COMPUTE_SLOTS", 1...64) }
        if let v = env["MESH_LOG_LEVEL"] { c.logLevel = try level(v, "MESH_LOG_LEVEL") }
        if let v = env["MESH_STALL_TIMEOUT_S"] {
            guard let s = Double(v), s >= 0, s <= 86_400 else {
                throw ConfigError(field: "MESH_STALL_TIMEOUT_S", message: "'\(v)' must be seconds in 0...86400 (0 disables)")
            }
            c.stallTimeoutSeconds = s
        }
        if let v = env["MESH_MAX_MESSAGE_BYTES"] {
            c.maxMessageBytes = try int(v, "MESH_MAX_MESSAGE_BYTES", 1024...MeshTopology.maxMessageBytes)
        }
        if let v = env["MESH_MAX_BATCH"] { c.maxBatch = try int(v, "MESH_MAX_BATCH", 1...256) }
        if let v = env["MESH_MAX_BATCH_WAIT_MS"] { c.maxBatchWaitMs = try int(v, "MESH_MAX_BATCH_WAIT_MS", 0...10_000) }
        if let v = env["MESH_SHUTDOWN_GRACE_S"] {
            guard let s = Double(v), s >= 0, s <= 3600 else {
                throw ConfigError(field: "MESH_SHUTDOWN_GRACE_S", message: "'\(v)' must be seconds in 0...3600")
            }
            c.shutdownGraceSeconds = s
        }
        if let url = c.amqpURL { try checkBrokerCredentials(url) }
        var i = 0
        while i < arguments.count {
            let flag = arguments[i]
            func value() throws -> String {
                guard i + 1 < arguments.count else { throw ConfigError(field: flag, message: "needs a value") }
                i += 1
                return arguments[i]
            }
            switch flag {
            case "--prefetch": c.prefetch = try int(try value(), "--prefetch", 1...1000)
            case "--metrics-port": c.metricsPort = try int(try value(), "--metrics-port", 0...65535)
            case "--worker": c.worker = try value()
            case "--artifacts": c.artifactsDir = try value()
            case "--blas-threads": c.blasThreads = try int(try value(), "--blas-threads", 1...64)
            case "--compute-slots": c.computeSlots = try int(try value(), "--compute-slots", 1...64)
            case "--max-batch": c.maxBatch = try int(try value(), "--max-batch", 1...256)
            case "--max-batch-wait-ms": c.maxBatchWaitMs = try int(try value(), "--max-batch-wait-ms", 0...10_000)
            case "--log-level": c.logLevel = try level(try value(), "--log-level")
            case "--shutdown-grace": c.shutdownGraceSeconds = Double(try int(try value(), "--shutdown-grace", 0...3600))
            case "--stall-timeout": c.stallTimeoutSeconds = Double(try int(try value(), "--stall-timeout", 0...86_400))
            case "--amqp", "--db":
                throw ConfigError(field: flag, message: "broker and database URLs carry credentials: set MESH_AMQP_URL / MESH_DATABASE_URL in the environment")
            case "-h", "--help":
                throw ConfigError(field: "--help", message: Self.usage(service: service))
            default:
                throw ConfigError(field: flag, message: "unknown flag. " + Self.usage(service: service))
            }
            i += 1
        }
        return c
    }

    public static func usage(service: String) -> String {
        """
        usage: \(service)-svc [--prefetch N] [--metrics-port P] [--worker NAME] [--artifacts DIR] \
        [--blas-threads N] [--compute-slots N] [--max-batch N] [--max-batch-wait-ms MS] [--log-level trace|debug|info|notice|warning|error|critical] \
        [--shutdown-grace S] [--stall-timeout S]
        environment: MESH_AMQP_URL (required), MESH_DATABASE_URL (required), MESH_ARTIFACTS_DIR, MESH_PREFETCH, \
        MESH_METRICS_PORT, MESH_WORKER, MESH_BLAS_THREADS, MESH_COMPUTE_SLOTS, MESH_LOG_LEVEL, MESH_SHUTDOWN_GRACE_S, \
        MESH_STALL_TIMEOUT_S, MESH_MAX_MESSAGE_BYTES, MESH_MAX_BATCH, MESH_MAX_BATCH_WAIT_MS
        """
    }

    /// Refuses the broker's default guest/guest credentials unless the broker is on loopback
    /// (where RabbitMQ itself allows guest): a service must not run on a shared network with them.
    public static func checkBrokerCredentials(_ url: String) throws {
        let parsed: AMQPURL
        do { parsed = try AMQPURL(url) } catch {
            throw ConfigError(field: "MESH_AMQP_URL", message: "\(error)")
        }
        if parsed.usesDefaultCredentials && !parsed.isLoopback {
            throw ConfigError(field: "MESH_AMQP_URL",
                              message: "uses the broker's default guest credentials on non-loopback host '\(parsed.host)': create a dedicated broker user and put it in MESH_AMQP_URL (see .env.example)")
        }
    }

    /// Configuration as recorded with runs and reported by describe: no credentials.
    public var redacted: [String: String] {
        var d: [String: String] = [
            "service": service, "artifacts_dir": artifactsDir, "prefetch": String(prefetch),
            "worker": worker, "blas_threads": blasThreads == 0 ? "default" : String(blasThreads), "compute_slots": String(computeSlots), "log_level": logLevel.rawValue,
            "shutdown_grace_s": String(shutdownGraceSeconds),
            "stall_timeout_s": String(stallTimeoutSeconds), "max_message_bytes": String(maxMessageBytes),
        ]
        if let amqpURL { d["amqp_url"] = Self.redact(amqpURL) }
        if let databaseURL { d["database_url"] = Self.redact(databaseURL) }
        if let metricsPort { d["metrics_port"] = String(metricsPort) }
        return d
    }

    /// Replaces the password of a URL by "***".
    public static func redact(_ url: String) -> String { URLRedaction.redact(url) }

    static func int(_ s: String, _ field: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let v = Int(s) else { throw ConfigError(field: field, message: "'\(s)' is not an integer") }
        guard range.contains(v) else {
            throw ConfigError(field: field, message: "\(v) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    static func level(_ s: String, _ field: String) throws -> Logger.Level {
        guard let l = Logger.Level(rawValue: s.lowercased()) else {
            throw ConfigError(field: field, message: "'\(s)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        return l
    }
}
