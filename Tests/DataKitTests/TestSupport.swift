import Foundation
import Models
import TestKit
import XCTest

/// Paths and fixture loading shared by the data-kit tests.
enum TestSupport {
    static let referenceDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reference").path
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func fixture(_ name: String) throws -> [String: Any] {
        let path = referenceDir + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestRequirement.missing("fixture \(path)", hint: "regenerate with the reference script in Tests/DataKitTests/Reference")
        }
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func floats(_ any: Any?) -> [Float] { (any as? [Any] ?? []).map { Float(($0 as? NSNumber)?.doubleValue ?? .nan) } }

    /// The prepared models directory; tests need scripts/prepare-models to have run (bootstrap does).
    static func modelsDir() throws -> String {
        if let env = ProcessInfo.processInfo.environment["MESH_MODELS_DIR"], !env.isEmpty { return env }
        let dir = repoRoot + "/.latentmesh/models"
        try TestRequirement.require(FileManager.default.fileExists(atPath: dir + "/efficientnet_lite0.safetensors"),
                                    "prepared models", hint: "run scripts/prepare-models (expected \(dir))")
        return dir
    }

    /// A required test input is missing; fails the test (never skips) with how to install it.
    struct MissingInput: Error, CustomStringConvertible {
        let description: String
    }

    /// Path of a photo shipped in the `scikit-image` wheel's `skimage/data` (installed --no-deps by
    /// scripts/bootstrap; only its PNG files are used, skimage is never imported). Found with
    /// python3's find_spec, else by scanning the usual site-packages folders.
    static func photo(_ name: String) throws -> String {
        var roots: [String] = []
        if let pkg = ModelLocator.pythonPackageFolder("skimage") { roots.append(pkg) }
        let fm = FileManager.default
        for base in ["/usr/lib/python3/dist-packages", "/usr/local/lib", "/usr/lib", NSHomeDirectory() + "/.local/lib"] {
            guard let entries = try? fm.contentsOfDirectory(atPath: base) else { continue }
            if base.hasSuffix("dist-packages") { roots.append(base + "/skimage"); continue }
            for e in entries where e.hasPrefix("python3") {
                roots += ["\(base)/\(e)/site-packages/skimage", "\(base)/\(e)/dist-packages/skimage"]
            }
        }
        for root in roots where fm.fileExists(atPath: "\(root)/data/\(name).png") { return "\(root)/data/\(name).png" }
        throw MissingInput(description: "photo \(name).png of the scikit-image wheel not found (looked in \(roots)); run scripts/bootstrap")
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var d: Float = 0, na: Float = 0, nb: Float = 0
        for i in 0..<a.count { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
        return d / (na.squareRoot() * nb.squareRoot())
    }

    static func tempDir() -> String {
        let p = NSTemporaryDirectory() + "datakit-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}
