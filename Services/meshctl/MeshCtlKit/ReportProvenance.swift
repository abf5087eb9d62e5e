import Foundation
import MeshKit
import RunStore

/// Where and from what a report was generated: commit, whether the working tree had
/// uncommitted changes, date, CPU model and core count. Every `meshctl report AREA` records it.
public struct ReportProvenance: Sendable {
    public var commit: String
    public var dirty: Bool
    public var date: String
    public var cpuModel: String
    public var cores: Int

    /// The provenance of a report generated now from the checkout in the working directory.
    public static func current() -> ReportProvenance {
        ReportProvenance(commit: GitInfo.commit, dirty: GitInfo.isDirty,
                         date: ISO8601DateFormatter().string(from: Date()), cpuModel: cpuModel(),
                         cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// As passed to the report renderers: commit, dirty, date, cpu, cores.
    public var dictionary: [String: String] {
        ["commit": commit, "dirty": dirty ? "yes" : "no", "date": date, "cpu": cpuModel, "cores": String(cores)]
    }

    /// One markdown sentence.
    public var markdown: String {
        "commit `\(commit)`\(dirty ? " (with uncommitted changes)" : ""), \(date), \(cpuModel), \(cores) cores"
    }

    /// `model name` of /proc/cpuinfo (Linux), else "unknown CPU".
    static func cpuModel() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in info.split(separator: "\n") where line.hasPrefix("model name") {
            if let v = line.split(separator: ":", maxSplits: 1).last { return v.trimmingCharacters(in: .whitespaces) }
        }
        return "unknown CPU"
    }

    /// SHA-256 over the method library's Swift sources (paths and contents, sorted): a cache
    /// written by other library code is never reused. `directory` is relative to the checkout.
    public static func sourceHash(of directory: String) throws -> String {
        let root = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw ValidationFailure("cannot read \(directory): run meshctl report from the checkout's root")
        }
        var files = walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.map(\.path)
        files.sort()
        guard !files.isEmpty else { throw ValidationFailure("no Swift sources under \(directory): run meshctl report from the checkout's root") }
        var hasher = SHA256()
        for f in files {
            hasher.update(Array(f.dropFirst(root.path.count).utf8))
            hasher.update(Array((try Data(contentsOf: URL(fileURLWithPath: f)))))
        }
        return SHA256.hexString(hasher.finalize())
    }
}
