import Foundation
import XCTest

/// Pieces a test needs from outside (models, data, servers, built binaries). Under the test
/// command (`scripts/test` sets MESH_REQUIRE_ALL=1) a missing piece FAILS the test; run by
/// hand without it, the test is skipped with how to provide the piece.
public enum TestRequirement {
    /// Whether missing pieces fail (the test command) rather than skip.
    public static var strict: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["MESH_REQUIRE_ALL"] == "1" || env["MESH_REQUIRE_SERVERS"] == "1"
    }

    /// The error to throw for a missing piece: records a failure under the test command
    /// (then throws it so the test stops), else an `XCTSkip`.
    public static func missing(_ what: String, hint: String, file: StaticString = #filePath, line: UInt = #line) -> Error {
        let message = "\(what) is missing: \(hint)"
        if strict {
            XCTFail("\(message) (MESH_REQUIRE_ALL=1: a missing piece fails)", file: file, line: line)
            return Missing(description: message)
        }
        return XCTSkip(message)
    }

    /// Throws `missing(what, hint:)` unless `available`.
    public static func require(_ available: Bool, _ what: String, hint: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        if !available { throw missing(what, hint: hint, file: file, line: line) }
    }

    /// An environment variable the test needs (e.g. MESH_AMQP_URL).
    public static func environment(_ name: String, hint: String = "run scripts/test (starts RabbitMQ and PostgreSQL)",
                                   file: StaticString = #filePath, line: UInt = #line) throws -> String {
        if let v = ProcessInfo.processInfo.environment[name], !v.isEmpty { return v }
        throw missing("\(name)", hint: hint, file: file, line: line)
    }

    /// A fresh temporary folder.
    public static func tempDir(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("latentmesh-tests-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The error thrown after a strict failure was recorded.
    public struct Missing: Error, CustomStringConvertible { public let description: String }
}
