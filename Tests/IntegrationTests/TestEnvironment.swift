import Foundation
import XCTest

/// Where the real servers and the built service executables are.
enum TestEnvironment {
    /// RabbitMQ URL; fails the test when the test command promised servers, else skips.
    static func amqpURL() throws -> String { try required("MESH_AMQP_URL") }
    static func databaseURL() throws -> String { try required("MESH_DATABASE_URL") }

    static func required(_ name: String) throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let v = env[name], !v.isEmpty { return v }
        if env["MESH_REQUIRE_SERVERS"] == "1" {
            XCTFail("\(name) is not set but MESH_REQUIRE_SERVERS=1: run the tests with scripts/test")
            throw XCTSkip("missing \(name)")
        }
        throw XCTSkip("\(name) not set: run scripts/test (starts RabbitMQ and PostgreSQL)")
    }

    /// The repository root (for scripts/stack).
    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// The folder holding the built executables (next to the test bundle).
    static let binDir: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("meshctl").path) { return url }
        }
        return repoRoot.appendingPathComponent(".build/debug")
    }()

    /// `application:get_env(rabbit, KEY).` on the running broker (scripts/stack rabbitmqctl eval):
    /// the exit status and what it printed.
    static func brokerSetting(_ key: String) throws -> (status: Int32, text: String) {
        let p = Process()
        p.executableURL = repoRoot.appendingPathComponent("scripts/stack")
        p.arguments = ["rabbitmqctl", "eval", "application:get_env(rabbit, \(key))."]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    static func tempDir(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("latentmesh-tests-\(getpid())-\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes.
    static func waitUntil(_ timeout: TimeInterval, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                          _ condition: () throws -> Bool) rethrows -> Bool {
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            if try condition() { return true }
            usleep(50_000)
        }
        XCTFail("timed out after \(timeout) s waiting for \(what)", file: file, line: line)
        return false
    }
}
