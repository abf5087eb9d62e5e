import Foundation
import MeshTesting
import XCTest

/// compose.yaml is valid for docker-compose and lets decode-svc and generator-svc scale.
final class ComposeTests: XCTestCase {
    func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["docker-compose", "-f", TestEnvironment.repoRoot.appendingPathComponent("compose.yaml").path] + args
        // compose.yaml takes credentials only from .env / the environment (no defaults): give it
        // throwaway ones, as .env.example shows.
        var env = ProcessInfo.processInfo.environment
        for (k, v) in ["RABBITMQ_USER": "compose-test", "RABBITMQ_PASSWORD": "compose-test-pass",
                       "POSTGRES_USER": "compose-test", "POSTGRES_PASSWORD": "compose-test-pass"] where env[k] == nil {
            env[k] = v
        }
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, out)
    }

    func testComposeFileValidatesAndDeclaresTheStack() throws {
        let (status, out) = try run(["config"])
        XCTAssertEqual(status, 0, out)
        let (_, services) = try run(["config", "--services"])
        let names = Set(services.split(separator: "\n").map(String.init))
        XCTAssertEqual(names, ["rabbitmq", "postgres", "tokenizer-svc", "generator-svc", "personalize-svc", "decode-svc", "distill-svc"])
        XCTAssertTrue(out.contains("healthcheck"), "services have health checks")
        XCTAssertTrue(out.contains("artifacts"), "an artifacts volume")
        XCTAssertFalse(out.contains("container_name"), "fixed container names would prevent --scale")
        // decode-svc must not publish fixed host ports (replicas would collide).
        let decode = out.components(separatedBy: "  decode-svc:").dropFirst().first?.components(separatedBy: "\n  distill-svc:").first ?? ""
        XCTAssertFalse(decode.contains("ports:"), "decode-svc publishes no host ports")
        XCTAssertTrue(decode.contains("decode-svc"))
        // generator-svc scales the same way: no host ports, one request per replica at a time.
        let generator = out.components(separatedBy: "  generator-svc:").dropFirst().first?.components(separatedBy: "\n  personalize-svc:").first ?? ""
        XCTAssertFalse(generator.contains("ports:"), "generator-svc publishes no host ports")
        XCTAssertTrue(generator.contains("--prefetch"), "generator-svc replicas take one request at a time: \(generator)")
    }
}
