import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The operations endpoint of a service process: `GET /metrics` (Prometheus text),
/// `GET /health` (liveness: 200 while serving, 503 while shutting down) and `GET /ready`
/// (readiness: 200 once connected to broker and store with models loaded, else 503 naming
/// what is missing).
///
/// Served by Hummingbird 2 on SwiftNIO: every connection is an event-loop channel, so idle or
/// slow clients never block a health check. Limits: at most `maxConnections` open connections
/// (further ones wait in the accept backlog), connections idle for `idleTimeout` are closed,
/// request headers are bounded by `maxHeaderBytes`, request bodies by `maxBodyBytes` (413).
public final class OpsServer: @unchecked Sendable {
    /// Connection and size limits of the endpoint.
    public struct Limits: Sendable, Equatable {
        public var maxConnections: Int
        /// Seconds a connection may stay idle (no bytes in either direction) before it is closed.
        public var idleTimeout: Int
        public var maxHeaderBytes: Int
        public var maxBodyBytes: Int

        public init(maxConnections: Int = 256, idleTimeout: Int = 15, maxHeaderBytes: Int = 8192,
                    maxBodyBytes: Int = 1024) {
            self.maxConnections = maxConnections; self.idleTimeout = idleTimeout
            self.maxHeaderBytes = maxHeaderBytes; self.maxBodyBytes = maxBodyBytes
        }
    }

    /// The answer of a probe: whether it passes, and a one-line text body.
    public struct Probe: Sendable {
        public var ok: Bool
        public var text: String
        public init(ok: Bool, text: String) { self.ok = ok; self.text = text }
    }

    public let host: String
    public let limits: Limits
    private let metrics: @Sendable () -> String
    private let health: @Sendable () -> Probe
    private let ready: @Sendable () async -> Probe
    private let logger: Logger
    private var task: Task<Void, Never>?
    private let lock = NSLock()
    private var boundPort: Int?

    /// - Parameters:
    ///   - host: address to bind ("0.0.0.0" in containers, "127.0.0.1" for local use).
    ///   - metrics: Prometheus text exposition.
    ///   - health: liveness, answered without touching broker or store.
    ///   - ready: readiness; may check connections (keep it bounded in time).
    public init(host: String = "0.0.0.0", limits: Limits = Limits(), logger: Logger,
                metrics: @escaping @Sendable () -> String,
                health: @escaping @Sendable () -> Probe,
                ready: @escaping @Sendable () async -> Probe) {
        self.host = host; self.limits = limits; self.logger = logger
        self.metrics = metrics; self.health = health; self.ready = ready
    }

    /// Binds `port` (0 picks a free one), starts serving in the background and returns the bound port.
    public func start(port: Int) async throws -> Int {
        let router = Router()
        router.add(middleware: BodyLimitMiddleware(maxBytes: limits.maxBodyBytes))
        let metrics = self.metrics, health = self.health, ready = self.ready
        router.get("/metrics") { _, _ in
            Self.response(.ok, "text/plain; version=0.0.4", metrics())
        }
        router.get("/health") { _, _ in
            let p = health()
            return Self.response(p.ok ? .ok : .serviceUnavailable, "text/plain", p.text + "\n")
        }
        router.get("/ready") { _, _ in
            let p = await ready()
            return Self.response(p.ok ? .ok : .serviceUnavailable, "text/plain", p.text + "\n")
        }
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes, maxHeaderFieldCount: 64)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let started = AsyncStream<Result<Int, Error>>.makeStream()
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(limits.idleTimeout)),
                                                httpDecoderConfiguration: decoder)),
            configuration: .init(address: .hostname(host, port: port), serverName: "latentmesh",
                                 availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            onServerRunning: { channel in
                started.continuation.yield(.success(channel.localAddress?.port ?? port))
            },
            logger: quiet)
        task = Task {
            do { try await app.run() } catch { started.continuation.yield(.failure(error)) }
            started.continuation.finish()
        }
        for await result in started.stream {
            let p = try result.get()
            lock.withLock { boundPort = p }
            return p
        }
        throw BindError(description: "ops server on \(host):\(port) stopped before it was running")
    }

    /// The bound port once `start` returned.
    public var port: Int? { lock.withLock { boundPort } }

    /// Stops accepting and closes the listener.
    public func stop() async {
        task?.cancel()
        _ = await task?.value
    }

    public struct BindError: Error, CustomStringConvertible {
        public var description: String
    }

    static func response(_ status: HTTPResponse.Status, _ contentType: String, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: contentType],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Refuses request bodies larger than `maxBytes` with 413 before routing (the endpoints take none).
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBytes: Int
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            return OpsServer.response(.contentTooLarge, "text/plain",
                                      "request body of \(length) bytes exceeds the limit of \(maxBytes) bytes (ops.max_body_bytes)\n")
        }
        do {
            _ = try await request.collectBody(upTo: maxBytes)
        } catch {
            return OpsServer.response(.contentTooLarge, "text/plain",
                                      "request body exceeds the limit of \(maxBytes) bytes (ops.max_body_bytes)\n")
        }
        return try await next(request, context)
    }
}
