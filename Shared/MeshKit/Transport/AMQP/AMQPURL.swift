import Foundation
import RunStore

/// A parsed `amqp://user:pass@host:port/vhost?heartbeat=N` broker address.
public struct AMQPURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    /// Virtual host ("/" when the path is empty or "%2f").
    public var vhost: String
    /// Heartbeat interval in seconds (0 disables).
    public var heartbeat: Int

    /// Parses an AMQP URL; throws `TransportError.invalidArgument` naming the bad part.
    public init(_ text: String) throws {
        func bad(_ part: String, _ why: String) -> TransportError {
            .invalidArgument(field: "amqp url \(part)", message: "\(why) in '\(AMQPURL.redact(text))'")
        }
        guard let schemeEnd = text.range(of: "://") else {
            throw bad("scheme", "expected 'amqp://user:pass@host:port/vhost'")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "amqp" else {
            throw bad("scheme", "unsupported scheme '\(scheme)' (only 'amqp' is supported)")
        }
        var rest = String(text[schemeEnd.upperBound...])
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = String(rest[..<q])
        }
        var authority = rest
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = String(rest[..<slash])
            path = String(rest[rest.index(after: slash)...])
        }
        user = "guest"
        password = "guest"
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = String(authority[..<at])
            hostPort = String(authority[authority.index(after: at)...])
            let parts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let u = String(parts[0]).removingPercentEncoding, !u.isEmpty else {
                throw bad("user", "empty or badly percent-encoded user name")
            }
            user = u
            if parts.count == 2 {
                guard let p = String(parts[1]).removingPercentEncoding else {
                    throw bad("password", "badly percent-encoded password")
                }
                password = p
            }
        }
        port = 5672
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw bad("host", "unterminated IPv6 literal") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = try AMQPURL.parsePort(String(after.dropFirst()), bad) }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            port = try AMQPURL.parsePort(String(hostPort[hostPort.index(after: colon)...]), bad)
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { throw bad("host", "missing host") }
        if path.isEmpty {
            vhost = "/"
        } else {
            guard let v = path.removingPercentEncoding, !v.isEmpty else {
                throw bad("vhost", "badly percent-encoded virtual host '\(path)'")
            }
            vhost = v
        }
        heartbeat = 30
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            switch kv[0] {
            case "heartbeat":
                guard kv.count == 2, let h = Int(kv[1]), (0...3600).contains(h) else {
                    throw bad("heartbeat", "expected an integer 0...3600 seconds")
                }
                heartbeat = h
            default:
                break // unknown options are ignored, as other AMQP clients do
            }
        }
    }

    private static func parsePort(_ s: String, _ bad: (String, String) -> TransportError) throws -> Int {
        guard let p = Int(s), (1...65535).contains(p) else {
            throw bad("port", "port '\(s)' is not an integer in 1...65535")
        }
        return p
    }

    /// Whether the URL carries the broker's factory credentials (guest/guest, also the default
    /// when the URL names no user).
    public var usesDefaultCredentials: Bool { user == "guest" && password == "guest" }

    /// Whether `host` is the loopback interface (127.0.0.0/8, ::1, localhost).
    public var isLoopback: Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }

    /// The URL with the password hidden (for logs and errors).
    public var description: String {
        "amqp://\(user):***@\(host):\(port)/\(vhost == "/" ? "%2f" : vhost)"
    }

    static func redact(_ text: String) -> String { URLRedaction.redact(text) }
}
