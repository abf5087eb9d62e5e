import Foundation

/// The git commit this build runs from, recorded with every run.
/// MESH_GIT_COMMIT wins (set by the Dockerfile and scripts); else `git rev-parse HEAD` run in
/// the executable's folder (inside the checkout's .build/) or the working directory; else "unknown".
public enum GitInfo {
    public static let commit: String = {
        if let c = ProcessInfo.processInfo.environment["MESH_GIT_COMMIT"], !c.isEmpty { return c }
        let exeDir = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath().deletingLastPathComponent().path
        for dir in [exeDir, FileManager.default.currentDirectoryPath] {
            if let c = revParse(in: dir) { return c }
        }
        return "unknown"
    }()

    static func revParse(in dir: String) -> String? { git(["rev-parse", "HEAD"], in: dir).flatMap { $0.isEmpty ? nil : $0 } }

    /// Whether the checkout in the working directory has uncommitted changes to tracked files
    /// (false when git or the checkout is missing).
    public static var isDirty: Bool {
        !(git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty
    }

    /// Output of `git ARGS` (trimmed) run in `dir` (default: the working directory); nil on failure.
    public static func git(_ args: [String], in dir: String? = nil) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git"] + (dir.map { ["-C", $0] } ?? []) + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return p.terminationStatus == 0 ? s : nil
    }
}
