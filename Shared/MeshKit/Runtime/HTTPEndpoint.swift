import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.0 server on 127.0.0.1/0.0.0.0 for GET /metrics (Prometheus text) and
/// GET /health (200 while serving, 503 while shutting down). Not a general web server.
public final class HTTPEndpoint: @unchecked Sendable {
    public typealias Route = @Sendable () -> (status: Int, contentType: String, body: String)
    private let fd: Int32
    public let port: Int
    private let routes: [String: Route]
    private let queue = DispatchQueue(label: "latentmesh.http")
    private var running = true

    public struct BindError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Binds `host:port` (port 0 picks a free one) and starts serving in the background.
    public init(host: String = "0.0.0.0", port: Int, routes: [String: Route]) throws {
        self.routes = routes
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw BindError(description: "socket() failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(host)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(s, 16) == 0 else {
            close(s)
            throw BindError(description: "cannot listen on \(host):\(port): errno \(errno)")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        self.fd = s
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        let thread = Thread { [weak self] in self?.acceptLoop() }
        thread.name = "latentmesh-http"
        thread.start()
    }

    private func acceptLoop() {
        while running {
            let c = accept(fd, nil, nil)
            if c < 0 { if !running { return }; continue }
            queue.async { [weak self] in self?.serve(c) }
        }
    }

    private func serve(_ c: Int32) {
        defer { close(c) }
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = recv(c, &buf, buf.count, 0)
        guard n > 0 else { return }
        let request = String(decoding: buf[0..<n], as: UTF8.self)
        let parts = request.split(separator: " ", maxSplits: 2)
        let path = parts.count > 1 ? String(parts[1]).split(separator: "?").first.map(String.init) ?? "/" : "/"
        let response: (status: Int, contentType: String, body: String)
        if parts.first == "GET", let route = routes[path] {
            response = route()
        } else {
            response = (404, "text/plain", "not found: try \(routes.keys.sorted().joined(separator: ", "))\n")
        }
        let reason = [200: "OK", 404: "Not Found", 503: "Service Unavailable"][response.status] ?? "OK"
        let body = Array(response.body.utf8)
        let head = "HTTP/1.0 \(response.status) \(reason)\r\nContent-Type: \(response.contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let r = bytes[sent...].withUnsafeBufferPointer { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if r <= 0 { return }
            sent += r
        }
    }

    public func stop() {
        running = false
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
