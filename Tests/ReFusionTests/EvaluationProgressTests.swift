import Foundation
import TestKit
import XCTest
@testable import ReFusion

/// A seed's measurement set resumes at its first unfinished pass after a stopped run, and the
/// finished passes it reuses are exactly the stored ones.
final class EvaluationProgressTests: XCTestCase {
    func result(_ decoder: String, exactMatch: Double) -> EvaluationResult {
        EvaluationResult(decoder: decoder, task: "arithmetic", examples: 4, exactMatch: exactMatch, judgeBitsPerChar: 0,
                         distinct4: 0, generatedTokens: 10, forwards: 5, seconds: 0.1)
    }

    func testPassesAreStoredRunOnceAndRemovedWhenTheSetIsDone() throws {
        let dir = TestRequirement.tempDir("eval-progress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("measurements/set.parts.json")
        var calls = 0
        let first = try EvaluationProgress(file: file)
        XCTAssertTrue(first.parts.isEmpty)
        let a = try first.result("a") { calls += 1; return result("A", exactMatch: 0.5) }
        XCTAssertEqual(a.exactMatch, 0.5)
        XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), "stored after the pass")
        // a new run (the old one stopped): "a" is read back, "b" is measured
        let second = try EvaluationProgress(file: file)
        XCTAssertEqual(try second.result("a") { calls += 1; return result("A", exactMatch: 0.9) }, a)
        XCTAssertEqual(try second.pass("b") { calls += 1; return .init(result: result("B", exactMatch: 0.25), samples: [["p", "g"]]) }.samples,
                       [["p", "g"]])
        XCTAssertEqual(calls, 2)
        XCTAssertEqual([second.resumed, second.measured], [1, 1])
        XCTAssertEqual(Set(try EvaluationProgress(file: file).parts.keys), ["a", "b"])
        EvaluationProgress.finish(file: file)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path))
        // an unreadable file is an error naming the file, not a silent restart
        try Data("{not json".utf8).write(to: file)
        XCTAssertThrowsError(try EvaluationProgress(file: file)) { XCTAssertTrue("\($0)".contains(file.path), "\($0)") }
        // without a file, passes only run
        let none = try EvaluationProgress(file: nil)
        _ = try none.result("a") { calls += 1; return result("A", exactMatch: 0.5) }
        XCTAssertEqual(calls, 3)
    }

    /// The quick plan: a run stopped inside seed 1's measurements (its set missing, one finished pass
    /// on disk) resumes that set, taking the stored pass as it is and measuring the rest.
    func testAStoppedSeedEvaluationResumesFromItsFinishedPasses() throws {
        var plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        plan.seeds = [1]; plan.learningRates = [3e-3]
        let data = try DecodeExperiment.standardData(plan: plan)   // needs fortunes-min (scripts/bootstrap)
        let cache = TestRequirement.tempDir("decode-eval-resume")
        defer { try? FileManager.default.removeItem(at: cache) }
        let first = try DecodeExperiment(plan: plan, data: data, cacheDirectory: cache).run()
        let sets = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("measurements").path)
        XCTAssertEqual(sets.filter { $0.hasSuffix(".parts.json") }, [], "a finished set leaves no parts")
        let set = try XCTUnwrap(sets.first { $0.hasPrefix("decode-eval") })
        try FileManager.default.removeItem(at: cache.appendingPathComponent("measurements/\(set)"))
        // what the stopped run had finished: AR on arithmetic, marked so its reuse shows
        var ar = try XCTUnwrap(first.runs[0].main.first { $0.decoder == DecodeExperiment.arDecoder && $0.task == "arithmetic" })
        ar.exactMatch = 0.123
        let parts = cache.appendingPathComponent("measurements/\(set.dropLast(".json".count)).parts.json")
        try JSONEncoder().encode(["main|\(DecodeExperiment.arDecoder)|arithmetic": EvaluationProgress.Part(result: ar, samples: nil)])
            .write(to: parts)
        var lines: [String] = []
        let second = try DecodeExperiment(plan: plan, data: data, cacheDirectory: cache).run(log: { lines.append($0) })
        XCTAssertTrue(lines.contains("evaluate seed 1: resuming after 1 finished passes"), "\(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("train ") }, "models come from the cache")
        var expected = first.runs[0]
        expected.main = expected.main.map { $0.decoder == ar.decoder && $0.task == "arithmetic" ? ar : $0 }
        // the other passes are measured again: same tokens (greedy), other timings
        XCTAssertEqual(second.runs[0].main.map(\.exactMatch), expected.main.map(\.exactMatch))
        XCTAssertEqual(second.runs[0].main.map(\.generatedTokens), expected.main.map(\.generatedTokens))
        XCTAssertEqual(second.runs[0].curves.map(\.result.exactMatch), expected.curves.map(\.result.exactMatch))
        XCTAssertEqual(second.runs[0].textSamples, expected.textSamples)
        XCTAssertFalse(FileManager.default.fileExists(atPath: parts.path), "removed once the set is stored")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache.appendingPathComponent("measurements/\(set)").path))
    }
}
