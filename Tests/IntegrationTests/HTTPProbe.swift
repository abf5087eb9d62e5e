import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Raw TCP clients for the ops endpoint tests: idle connections, slow drips, timed requests.
enum HTTPProbe {
    /// A connected TCP socket to 127.0.0.1:`port` (caller closes it).
    static func connect(port: Int) throws -> Int32 {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(s); throw NSError(domain: "HTTPProbe", code: Int(errno)) }
        return s
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the peer closes or `timeout` passes; nil on timeout with nothing read.
    static func readAll(_ fd: Int32, timeout: Double) -> String? {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n > 0 { out += buf[0..<n]; continue }
            if n == 0 { break }
            if out.isEmpty { return nil }
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One request on a fresh connection: status code (0 if none), full response text, seconds taken.
    static func request(port: Int, _ raw: String, timeout: Double = 5) throws -> (status: Int, text: String, seconds: Double) {
        let t0 = Date()
        let fd = try connect(port: port)
        defer { close(fd) }
        send(fd, raw)
        let text = readAll(fd, timeout: timeout) ?? ""
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, text, Date().timeIntervalSince(t0))
    }

    static func get(port: Int, _ path: String, timeout: Double = 5) throws -> (status: Int, text: String, seconds: Double) {
        try request(port: port, "GET \(path) HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", timeout: timeout)
    }

    /// Holds `count` idle connections and one request that drips a header byte every 100 ms.
    final class Crowd: @unchecked Sendable {
        private var fds: [Int32] = []
        private let lock = NSLock()
        private var stopped = false
        private var thread: Thread?

        init(port: Int, idle count: Int, drip: Bool) throws {
            for _ in 0..<count { fds.append(try HTTPProbe.connect(port: port)) }
            guard drip else { return }
            let fd = try HTTPProbe.connect(port: port)
            fds.append(fd)
            let t = Thread { [self] in
                HTTPProbe.send(fd, "GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
                while !lock.withLock({ stopped }) {
                    HTTPProbe.send(fd, "a")
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
            thread = t
            t.start()
        }

        func close() {
            lock.withLock { stopped = true }
            Thread.sleep(forTimeInterval: 0.15)
            for fd in fds { Glibc.close(fd) }
            fds.removeAll()
        }
    }
}
