import ArgumentParser
import Foundation

/// The options of a `meshctl report AREA` that runs a named plan in its own embedded mesh:
/// output directory, plan name, and the cache that keeps the plan's store, trained models and
/// measurements for the next run.
struct ReportPlanOptions: ParsableArguments {
    @Option(help: "Output directory.") var output = "docs/results"
    @Option(help: "Experiment plan: standard (the committed report) or quick (a smoke run; never commit its output).")
    var plan = "standard"
    @Option(help: "Where the report's embedded mesh keeps its store, trained models and measurements, reused by the next run (default .latentmesh/report-cache/AREA).")
    var cache: String?

    /// Refuses a plan not in `names`.
    func validate(plans names: [String]) throws {
        guard names.contains(plan) else {
            throw ValidationError("--plan '\(plan)': expected one of \(names.joined(separator: ", "))")
        }
    }

    var outputDir: URL { URL(fileURLWithPath: output) }

    /// The cache folder of `area` (`--cache`, else .latentmesh/report-cache/AREA).
    func cacheDir(_ area: String) -> URL { URL(fileURLWithPath: cache ?? ".latentmesh/report-cache/\(area)") }

    /// Runs `body` in the embedded mesh whose home is this plan's cache folder of `area`
    /// (`cacheDir(area)/<plan>`): the report's store, trained models and measurements.
    func withSession<T>(area: String, _ body: (MeshSession) async throws -> T) async throws -> T {
        var options = ConnectionOptions()
        options.embedded = true
        options.home = cacheDir(area).appendingPathComponent(plan).path
        return try await MeshSession.with(options, body)
    }

    /// Runs a report in `withSession(area:)` with its progress lines on stderr, then prints where
    /// it wrote `file` and its wall time. `body(session, outputDir, log)` returns the wall seconds.
    func run(area: String, file: String,
             _ body: (MeshSession, URL, @escaping (String) -> Void) async throws -> Double) async throws {
        let out = outputDir
        let seconds = try await withSession(area: area) { session in
            try await body(session, out) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }
        print("wrote \(out.appendingPathComponent(file).path) (\(String(format: "%.1f", seconds / 60)) min)")
    }
}
