import Foundation
import RunStore
import TestKit
import XCTest

/// Where the real servers and the built service executables are (the stack environment).
public enum TestEnvironment {
    /// RabbitMQ URL (a missing server fails under the test command, else skips).
    public static func amqpURL() throws -> String { try TestRequirement.environment("MESH_AMQP_URL") }
    /// PostgreSQL URL (same rule).
    public static func databaseURL() throws -> String { try TestRequirement.environment("MESH_DATABASE_URL") }

    /// The repository root (for scripts/stack, compose.yaml).
    public static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// The folder holding the built executables (next to the test bundle).
    public static let binDir: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("meshctl").path) { return url }
        }
        return repoRoot.appendingPathComponent(".build/debug")
    }()

    /// A built executable, e.g. "decode-svc" (missing = fails under the test command).
    public static func executable(_ name: String) throws -> URL {
        let url = binDir.appendingPathComponent(name)
        try TestRequirement.require(FileManager.default.isExecutableFile(atPath: url.path), "executable \(name)",
                                    hint: "build it first (swift build) — looked in \(binDir.path)")
        return url
    }

    /// `application:get_env(rabbit, KEY).` on the running broker (scripts/stack rabbitmqctl eval):
    /// the exit status and what it printed.
    public static func brokerSetting(_ key: String) throws -> (status: Int32, text: String) {
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

    public static func tempDir(_ name: String) -> URL { TestRequirement.tempDir(name) }

    /// A migrated SQLite run store in `dir` (file `file`): the in-process tests' store. The caller closes it.
    public static func sqliteStore(in dir: URL, file: String = "mesh.sqlite") throws -> RunStore {
        try RunStores.open(url: "sqlite:" + dir.appendingPathComponent(file).path)
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes (then records a failure).
    public static func waitUntil(_ timeout: TimeInterval, _ what: String, file: StaticString = #filePath, line: UInt = #line,
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
