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

    /// Whether the working tree has uncommitted changes (`git status --porcelain` not empty);
    /// nil when git cannot tell.
    public static var isDirty: Bool? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "status", "--porcelain", "--untracked-files=no"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? !data.isEmpty : nil
    }

    static func revParse(in dir: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", dir, "rev-parse", "HEAD"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do {
            try p.run()
            p.waitUntilExit()
            let s = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return p.terminationStatus == 0 && !s.isEmpty ? s : nil
        } catch {
            return nil
        }
    }
}
