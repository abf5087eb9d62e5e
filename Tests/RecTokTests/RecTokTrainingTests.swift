import ComputeCore
import XCTest
@testable import RecTok

final class RecTokTrainingTests: XCTestCase {
    func testLossFallsAndEveryTermIsReported() throws {
        let t = try RecTokFixtures.trainer(try RecTokFixtures.config(d: 8, steps: 16, decoderSteps: 0))
        var stats: [RecTokStepStats] = []
        while !t.isFinished { stats.append(try t.step()) }
        XCTAssertEqual(stats.count, 16)
        for s in stats {
            for k in ["loss", "loss_rec", "loss_kl", "loss_sem", "lr", "grad_norm", "mask_ratio", "t_mean", "posterior_std"] {
                XCTAssertNotNil(s.metrics[k], "missing \(k)")
            }
            XCTAssertEqual(s.metrics["phase"], 1)
            XCTAssertTrue(s.metrics["loss"]!.isFinite)
        }
        func mean(_ k: String, _ r: Range<Int>) -> Double { r.map { stats[$0].metrics[k]! }.reduce(0, +) / Double(r.count) }
        XCTAssertLessThan(mean("loss_rec", 12..<16), 0.7 * mean("loss_rec", 0..<4), "reconstruction does not fall")
        XCTAssertLessThan(mean("loss_sem", 12..<16), mean("loss_sem", 0..<4), "semantic loss does not fall")
        // Total = rec + 1e-6 KL + 1 · sem.
        let s = stats[5].metrics
        XCTAssertEqual(s["loss"]!, s["loss_rec"]! + 1e-6 * s["loss_kl"]! + s["loss_sem"]!, accuracy: 1e-4)
        // Teacher features were computed once per image: 16 steps x 8 = 2 epochs of 64 images.
        XCTAssertEqual(t.teacher?.computed, 64)
    }

    func testWithoutFSDThereIsNoSemanticTerm() throws {
        let t = try RecTokFixtures.trainer(try RecTokFixtures.config(fsd: false, steps: 2, decoderSteps: 0))
        XCTAssertNil(t.teacher)
        XCTAssertNil(t.model.semanticHead)
        XCTAssertFalse(t.model.namedParameters().contains { $0.0.hasPrefix("semantic") })
        let s = try t.step()
        XCTAssertNil(s.metrics["loss_sem"])
        XCTAssertEqual(s.metrics["loss"]!, s.metrics["loss_rec"]! + 1e-6 * s.metrics["loss_kl"]!, accuracy: 1e-5)
    }

    func testDecoderPhaseTrainsOnlyTheDecoderOnCleanLatents() throws {
        let t = try RecTokFixtures.trainer(try RecTokFixtures.config(steps: 2, decoderSteps: 3))
        XCTAssertEqual(t.phase(at: 1), .joint)
        XCTAssertEqual(t.phase(at: 2), .decoder)
        for _ in 0..<2 { try t.step() }
        let before = Dictionary(uniqueKeysWithValues: t.model.namedParameters().map { ($0.0, $0.1.array) })
        var last: RecTokStepStats?
        while !t.isFinished { last = try t.step() }
        XCTAssertEqual(t.stepIndex, 5)
        XCTAssertEqual(last?.metrics["phase"], 2)
        XCTAssertNil(last?.metrics["loss_sem"])
        XCTAssertNil(last?.metrics["loss_kl"])
        XCTAssertEqual(last?.metrics["lr"] ?? 0, Double(t.lr(at: 4)), accuracy: 1e-9)
        for (name, p) in t.model.namedParameters() {
            let changed = p.array != before[name]!
            if name.hasPrefix("decoder.") {
                XCTAssertTrue(changed || name.contains("norm"), "\(name) did not train in the decoder phase")
            } else {
                XCTAssertFalse(changed, "\(name) changed in the decoder-only phase")
            }
        }
        XCTAssertEqual(t.decoderOptimizer.stepCount, 3)
        XCTAssertEqual(t.optimizer.stepCount, 2)
        // The clean-latent loss is the decoder's MSE on the posterior means of every token.
        let (_, _, x) = try t.batch(step: 4)
        let expected = withNoGrad { RecTokLosses.reconstruction(t.model.decode(t.model.encode(x)), x).item }
        XCTAssertEqual(try withNoGrad { try t.losses(step: 4) }.total.item, expected, accuracy: 1e-6)
    }
}
