import ComputeCore
import Datasets
import Evaluation
import Foundation
import TestKit
import VTP
import XCTest
@testable import RecTok

/// Any tokenizer behind `LatentTokenizer`: `LatentTokenizers.load` picks VTP or RecTok by the
/// checkpoint header, the protocol carries what generators and evaluation need, and
/// `TokenizerEvaluator` scores a RecTok tokenizer (no CLS, no CLIP head: those metrics are nil).
final class LatentTokenizersTests: XCTestCase {
    func testLoadDispatchesOnTheCheckpointFormat() throws {
        let t = try RecTokFixtures.trainer(try RecTokFixtures.config(d: 8, steps: 1, decoderSteps: 0))
        try t.step()
        let recPath = RecTokFixtures.tempPath(self, "rectok.safetensors")
        try RecTokCheckpoint.save(t, to: recPath)
        XCTAssertEqual(try LatentTokenizers.kind(checkpointPath: recPath), .rectok)
        let rec = try LatentTokenizers.load(checkpointPath: recPath)
        XCTAssertTrue(rec is RecTokTokenizer)
        XCTAssertEqual(rec.latentShape, [8, 8, 8])
        XCTAssertEqual(rec.presetName, "rectok-fmnist32-xs")
        XCTAssertEqual(rec.datasetName, "fashion-mnist")
        XCTAssertEqual(rec.validationFraction, t.config.train.validationFraction)
        XCTAssertEqual(try XCTUnwrap(rec.latentNoiseShift), t.config.noiseShift, "RecTok hands its noise shift to the generator")
        XCTAssertNil(rec.textAlignment)
        let images = try t.data.images(Array(t.data.validation.prefix(2)), size: 32)
        let (z, summary) = try rec.encodeWithSummary(images)
        XCTAssertEqual(z.shape, [2, 64, 8])
        XCTAssertNil(summary, "RecTok has no CLS")

        var v = try VTPPresets.resolve("ae-fmnist32-xs")
        v.train.seed = 2
        let model = VTPModel(v.model, lossConfig: v.loss, seed: 2)
        let vtpPath = RecTokFixtures.tempPath(self, "vtp.safetensors")
        try Safetensors.write(model.namedParameters(), metadata: ["format": VTPCheckpoint.format, "config": try v.json(), "step": "0"], to: vtpPath)
        let vtp = try LatentTokenizers.load(checkpointPath: vtpPath)
        XCTAssertTrue(vtp is VTPTokenizer)
        XCTAssertEqual(vtp.presetName, "ae-fmnist32-xs")
        XCTAssertNil(vtp.latentNoiseShift, "VTP leaves the generator's shift alone")
        XCTAssertNil(vtp.textAlignment, "an AE has no CLIP head")
        XCTAssertNotNil(try vtp.encodeWithSummary(images).summary, "VTP's CLS")

        let other = RecTokFixtures.tempPath(self, "other.safetensors")
        try Safetensors.write([("x", Tensor.zeros([2]))], metadata: ["format": "something.else"], to: other)
        XCTAssertThrowsError(try LatentTokenizers.load(checkpointPath: other)) { e in
            XCTAssertTrue("\(e)".contains("not a tokenizer checkpoint"), "\(e)")
        }
    }

    func testEvaluatorScoresARecTokTokenizer() throws {
        let effnet: EffNetFeatureExtractor
        do { effnet = try EffNetFeatureExtractor(resolution: 32) } catch {
            throw TestRequirement.missing("EfficientNet-Lite0", hint: "run scripts/prepare-models (\(error))")
        }
        let t = try RecTokFixtures.trainer(try RecTokFixtures.config(d: 8, steps: 2, decoderSteps: 1))
        while !t.isFinished { try t.step() }
        let tok = RecTokTokenizer(model: t.model, config: t.config)
        var ev = TokenizerEvaluator()
        ev.reconstructionImages = 16; ev.probeTrain = 24; ev.probeTune = 16; ev.probeScored = 16
        ev.fdResolution = 32; ev.bootstrap = 20; ev.fdBootstrap = 2; ev.batchSize = 16
        let text = TextEmbeddingCache(dimension: 384) { texts in
            XCTFail("a tokenizer without a CLIP head needs no text embeddings")
            return texts.map { _ in [Float](repeating: 0, count: 384) }
        }
        let m = try ev.evaluate(tok, data: t.data, text: text, effnet: effnet)
        XCTAssertEqual(m.evalImages, 16)
        XCTAssertTrue(m.rFD.value.isFinite && m.psnr.isFinite)
        XCTAssertTrue((0...1).contains(m.probeGrid.value) && (0...1).contains(m.probeLatent.value))
        XCTAssertNil(m.probeCLS, "no summary embedding: no CLS probe")
        XCTAssertNil(m.heldOutText, "no CLIP head: no text score")
        XCTAssertNil(m.dictionary["probe_cls"])
    }
}
