import ComputeCore
import Datasets
import Evaluation
import Foundation
import XCTest
@testable import VTP

/// The tokenizer evaluation's honesty rules: held-out wording, separate tuning and scoring
/// images, spreads on every number, verdicts computed against the spread.
final class TokenizerEvaluatorTests: XCTestCase {
    func testHeldOutTemplatesUseWordingNoTrainingCaptionUses() throws {
        let training = CaptionTemplates.photo.templates + FashionMNISTColor.captionTemplates
        func wording(_ t: String) -> String {
            t.replacingOccurrences(of: "{class}", with: "").replacingOccurrences(of: "{color}", with: "")
                .split(separator: " ").joined(separator: " ")
        }
        let seen = Set(training.map(wording))
        for t in CaptionTemplates.heldOut.templates {
            XCTAssertTrue(t.contains("{class}"), t)
            XCTAssertFalse(seen.contains(wording(t)), "'\(t)' has the wording of a training template")
        }
        // No held-out prompt equals any training caption of either dataset.
        let fm = CaptionTemplates.photo
        for cls in ["dress", "sneaker", "T-shirt/top"] {
            let train = Set(fm.all(cls) + (0..<10).flatMap { c in (0..<8).flatMap { FashionMNISTColor.captions(classIndex: c, colorIndex: $0) } })
            XCTAssertTrue(Set(CaptionTemplates.heldOut.all(cls)).isDisjoint(with: train), cls)
        }
    }

    func testEvaluationTunesAndScoresOnSeparateImagesAndCarriesSpreads() throws {
        let t = try VTPFixtures.trainer(try VTPFixtures.config(.vtp, steps: 2))
        try t.step(); try t.step()
        let tok = VTPTokenizer(model: t.model, config: t.config)
        var ev = TokenizerEvaluator()
        let half = t.data.train.count / 2
        ev.reconstructionImages = 24; ev.probeTrain = half; ev.probeTune = t.data.train.count - half
        ev.probeScored = min(24, t.data.validation.count); ev.heldOutTextImages = 40; ev.fdResolution = 32
        ev.bootstrap = 50; ev.fdBootstrap = 3; ev.batchSize = 16
        let m = try ev.evaluate(tok, data: t.data, text: try VTPFixtures.text())
        XCTAssertEqual(m.probeSplit, [half, t.data.train.count - half, ev.probeScored])
        XCTAssertEqual(m.evalImages, 24)
        XCTAssertTrue(m.rFD.value.isFinite && m.rFD.value > 0)
        XCTAssertEqual(m.rFD.replicates, 3)
        XCTAssertGreaterThan(m.rFD.std, 0, "rFD carries its bootstrap spread")
        for p in [m.probeGrid, m.probeLatent, try XCTUnwrap(m.probeCLS, "a VTP tokenizer has a CLS")] {
            XCTAssertTrue((0...1).contains(p.value))
            XCTAssertEqual(p.replicates, 50)
            XCTAssertLessThanOrEqual(p.low, p.value + 1e-12); XCTAssertGreaterThanOrEqual(p.high, p.value - 1e-12)
        }
        let held = try XCTUnwrap(m.heldOutText, "a CLIP variant on Fashion-MNIST gets the held-out-template score")
        XCTAssertTrue((0...1).contains(held.value))
        // The AE has no CLIP head: no text score.
        let ae = try VTPFixtures.trainer(try VTPFixtures.config(.ae, steps: 1))
        try ae.step()
        XCTAssertNil(try ev.evaluate(VTPTokenizer(model: ae.model, config: ae.config), data: ae.data, text: try VTPFixtures.text()).heldOutText)
    }

    func testVerdictsAreJudgedAgainstTheSpread() {
        func est(_ v: Double, _ s: Double) -> Estimate { Estimate(value: v, low: v - 2 * s, high: v + 2 * s, std: s, replicates: 100) }
        XCTAssertEqual(Verdict.judge(est(0.70, 0.01), minus: est(0.60, 0.01)), .holds)
        XCTAssertEqual(Verdict.judge(est(0.61, 0.01), minus: est(0.60, 0.01)), .notShown)
        XCTAssertEqual(Verdict.judge(est(0.50, 0.01), minus: est(0.60, 0.01)), .doesNotHold)
        XCTAssertEqual(Verdict.judge(est(50, 2), minus: est(80, 2), wantPositive: false), .holds, "lower is better")
        XCTAssertEqual(Verdict.judge(difference: .nan, standardError: 1), .notShown)
    }
}
