import Foundation
import MeshCtlKit
import MeshTesting

/// A report's plan run in a throwaway embedded mesh (the tests of `meshctl report AREA`): a
/// temporary home (store, trained models, measurements) and output folder. `run` returns the
/// report's outcome and its log lines, so a second `run` shows what the cache saved.
struct ReportTestBed {
    let home: URL, out: URL

    init(_ name: String) {
        home = TestEnvironment.tempDir("\(name)-home"); out = TestEnvironment.tempDir("\(name)-out")
    }

    func remove() {
        try? FileManager.default.removeItem(at: home); try? FileManager.default.removeItem(at: out)
    }

    /// Runs `report(session, outputDir, log)` in the embedded mesh whose home is `home` (or
    /// `freshHome`: a new machine's, nothing trained or cached, only the committed output folder).
    func run<T>(freshHome: URL? = nil,
                _ report: (MeshSession, URL, @escaping (String) -> Void) async throws -> T) async throws -> (outcome: T, log: [String]) {
        var options = ConnectionOptions()
        options.embedded = true
        options.home = (freshHome ?? home).path
        let lines = LogLines()
        let o = try await MeshSession.with(options) { session in try await report(session, out) { lines.append($0) } }
        return (o, lines.all)
    }

    /// Whether a log shows nothing trained or evaluated (a rerun served wholly from the cache).
    static func reusedEverything(_ log: [String]) -> Bool {
        !log.contains { $0.hasPrefix("training") || $0.hasPrefix("evaluating") }
    }
}

/// Log lines collected from a report (it may log from any task).
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
