import Datasets
import Foundation
import Logging
import MeshKit
import MeshProto
import MeshTesting
import RunStore
import XCTest

/// The Python client (clients/python) end to end against the stack: real RabbitMQ + PostgreSQL,
/// real tokenizer-svc and generator-svc processes, a tiny tokenizer and generator trained first.
/// A missing python3, pika or protobuf fails the test (the scripts exit non-zero).
final class PythonClientTests: XCTestCase {
    static let pythonDir = TestEnvironment.repoRoot.appendingPathComponent("clients/python")

    /// Runs `python3 args` with the stack's broker URL; returns (status, stdout, stderr).
    func python(_ args: [String], timeout: TimeInterval = 600) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        var env = ProcessInfo.processInfo.environment
        env["MESH_AMQP_URL"] = try TestEnvironment.amqpURL()
        p.environment = env
        let dir = TestEnvironment.tempDir("py-out")
        let out = dir.appendingPathComponent("stdout"), err = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let until = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < until { usleep(100_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit(); XCTFail("python3 \(args) timed out after \(timeout) s") }
        let text = { (u: URL) in (try? String(contentsOf: u, encoding: .utf8)) ?? "" }
        return (p.terminationStatus, text(out), text(err))
    }

    func lastJSON(_ stdout: String) throws -> [String: Any] {
        let line = try XCTUnwrap(stdout.split(separator: "\n").last, "no stdout")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
    }

    func testPythonExampleAndIdempotentRetryAgainstTheStack() async throws {
        let amqp = try TestEnvironment.amqpURL(), db = try TestEnvironment.databaseURL()
        // The client's pure parts first (fails if python3, pika or protobuf is missing).
        let (unitStatus, _, unitErr) = try python(["-m", "unittest", "discover", "-s", Self.pythonDir.appendingPathComponent("tests").path])
        XCTAssertEqual(unitStatus, 0, "python unit tests:\n\(unitErr)")

        let shared = TestEnvironment.tempDir("py-artifacts")
        let tokenizer = try ServiceProcess("tokenizer", worker: "py-tok-\(getpid())", artifacts: shared)
        // Two generator-svc replicas (prefetch 1) compete on the generator's queues.
        let generators = try (0..<2).map { i in
            try ServiceProcess("generator", worker: "py-gen\(i)-\(getpid())", prefetch: 1, artifacts: shared)
        }
        try tokenizer.start()
        for g in generators { try g.start() }
        defer { tokenizer.stop(); generators.forEach { $0.stop() } }
        let store = try RunStores.open(url: db)
        try store.migrate()
        defer { store.close() }
        let transport = try AMQPTransport(url: amqp, name: "py-tests", logger: Logger(label: "py-tests"))
        let client = try await MeshClient(transport: transport, clientName: "py-tests")
        let tok = "tok-py-\(getpid())", gen = "gen-py-\(getpid())"
        var t = Latentmesh_V1_TokenizerTrainRequest()
        t.preset = "vtp-fmnistc32-xs"; t.steps = 2; t.seed = 3; t.checkpointName = tok
        _ = try await client.call("tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self, timeout: .seconds(300))
        var g = Latentmesh_V1_GeneratorTrainRequest()
        g.preset = "flowgen-xs"; g.tokenizerCheckpoint = tok; g.steps = 4; g.seed = 1; g.modelName = gen; g.trainLimit = 16
        _ = try await client.call("generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self, timeout: .seconds(300))

        // The example writes one tagged PNG per image.
        let outDir = TestEnvironment.tempDir("py-example")
        let example = Self.pythonDir.appendingPathComponent("examples/generate.py").path
        let (status, stdout, stderr) = try python([example, "a red dress", "-o", outDir.path, "--model", gen, "-n", "2",
                                                   "--steps", "4", "--seed", "5", "--guidance", "2"])
        XCTAssertEqual(status, 0, "generate.py failed:\n\(stderr)")
        XCTAssertTrue(stderr.contains("[step 4/4]"), "progress lines from the events exchange:\n\(stderr)")
        let summary = try lastJSON(stdout)
        let files = try XCTUnwrap(summary["files"] as? [String])
        XCTAssertEqual(files.count, 2)
        let pngs = try FileManager.default.contentsOfDirectory(atPath: outDir.path).filter { $0.hasSuffix(".png") }.sorted()
        XCTAssertEqual(pngs.count, 2)
        for (j, name) in pngs.enumerated() {
            let bytes = [UInt8](try Data(contentsOf: outDir.appendingPathComponent(name)))
            XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
            let tags = try PNGText.dictionary(bytes)
            XCTAssertEqual(tags["prompt"], "a red dress")
            XCTAssertEqual(tags["seed"], String(5 + j))
            XCTAssertEqual(tags["model"], gen)
        }
        let exampleRun = try XCTUnwrap(try store.run(id: try XCTUnwrap(summary["run_id"] as? String)))
        XCTAssertEqual(exampleRun.status, .succeeded)
        XCTAssertEqual(exampleRun.kind, "generator.generate")

        // Dropped connection -> retry with the same request id -> one run; repeat -> stored result.
        let check = Self.pythonDir.appendingPathComponent("tests/stack_check.py").path
        let (checkStatus, checkOut, checkErr) = try python([check, "--model", gen, "--steps", "200"])
        XCTAssertEqual(checkStatus, 0, "stack_check.py failed:\n\(checkErr)")
        print("stack_check.py: \(checkOut)")
        let seen = try lastJSON(checkOut)
        let requestID = try XCTUnwrap(seen["request_id"] as? String)
        XCTAssertGreaterThanOrEqual(seen["reconnects"] as? Int ?? 0, 1)
        let run = try XCTUnwrap(try store.run(requestID: requestID))
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertEqual(run.attempts, 1, "the retried publish never started a second attempt")
        XCTAssertEqual(run.runID, seen["run_id"] as? String)

        // Concurrent requests spread over both replicas.
        let workers = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<4 {
                group.addTask {
                    var r = Latentmesh_V1_GenerateRequest()
                    r.modelName = gen; r.prompts = ["a green bag"]; r.steps = 60; r.seed = UInt64(i)
                    return try await client.call("generator.generate", r, as: Latentmesh_V1_GenerateResponse.self,
                                                 timeout: .seconds(300)).reply.worker
                }
            }
            var seen: Set<String> = []
            for try await w in group { seen.insert(w) }
            return seen
        }
        XCTAssertEqual(workers, Set(generators.map(\.worker)), "both generator-svc replicas served")

        await client.close()
        await transport.close()
    }
}
