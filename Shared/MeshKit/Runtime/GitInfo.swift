import Foundation

/// The git commit this build runs from, recorded with every run.
/// MESH_GIT_COMMIT wins (set by the Dockerfile and scripts); else `git rev-parse HEAD` in the
/// working directory; else "unknown".
public enum GitInfo {
    public static let commit: String = {
        if let c = ProcessInfo.processInfo.environment["MESH_GIT_COMMIT"], !c.isEmpty { return c }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "rev-parse", "HEAD"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do {
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { return "unknown" }
            let s = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return s.isEmpty ? "unknown" : s
        } catch {
            return "unknown"
        }
    }()
}
