import ArgumentParser
import MeshProto
import TokenizerSvc
import XCTest
@testable import MeshCtlKit

/// `meshctl tokenizer train` options become `tokenizer.train` request fields (RecTok's experiment
/// axes included), and `--list-presets` covers both methods.
final class TokenizerCommandTests: XCTestCase {
    func train(_ args: [String]) throws -> Latentmesh_V1_TokenizerTrainRequest {
        let cmd = try TokenizerCommand.parseAsRoot(["train"] + args)
        return try XCTUnwrap(cmd as? TokenizerCommand.Train).request()
    }

    func testRecTokOptionsReachTheRequest() throws {
        let r = try train(["--preset", "rectok-fmnistc32-s", "--latent-channels", "8", "--fsd", "off", "--steps", "40",
                           "--set", "train.batchSize=16"])
        XCTAssertEqual(r.preset, "rectok-fmnistc32-s")
        XCTAssertEqual(r.latentChannels, 8)
        XCTAssertEqual(r.fsd, "off")
        XCTAssertEqual(r.steps, 40)
        XCTAssertEqual(r.configOverrides, ["train.batchSize=16"])
        XCTAssertEqual(r.teacher, "", "unset: the service's default teacher")
        let trunk = try train(["--preset", "rectok-fmnistc32-s", "--teacher", "vtp-trunk", "--teacher-checkpoint", "vtp-s"])
        XCTAssertEqual([trunk.teacher, trunk.teacherCheckpoint], ["vtp-trunk", "vtp-s"])
        XCTAssertEqual(trunk.latentChannels, 0, "unset: the preset's width")
        // The request the command builds passes the service's validation.
        XCTAssertEqual(try TokenizerService.validate(r).rectok?.model.latentChannels, 8)
        XCTAssertEqual(try TokenizerService.validate(r).rectok?.fsd, false)
        XCTAssertThrowsError(try train(["--latent-channels", "8"]), "--preset is required")
    }

    func testPresetListCoversBothMethods() {
        let names = TokenizerPresets.names
        XCTAssertTrue(names.contains("vtp-fmnist32-s"))
        XCTAssertTrue(names.contains("rectok-fmnistc32-s"))
        XCTAssertTrue(names.contains("rectok-fmnist32-xs"))
        XCTAssertTrue(TokenizerModule().presets.contains("rectok-fmnistc32-s"), "the module lists RecTok presets too")
    }
}
