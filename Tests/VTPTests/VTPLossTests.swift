import ComputeCore
import XCTest
@testable import VTP

final class VTPLossTests: XCTestCase {
    /// Optimises only `term` on the batch of step 0 and returns its first and last values.
    private func optimise(_ term: String, variant: VTPVariant, iterations: Int = 8, lr: Float = 3e-3) throws -> (Float, Float) {
        var c = try VTPFixtures.config(variant)
        c.train.lr = lr
        let t = try VTPFixtures.trainer(c)
        var first: Float = .nan, last: Float = .nan
        for i in 0..<iterations {
            t.model.zeroGrad()
            let out = try t.losses(step: 0)
            let l = try XCTUnwrap(out.terms[term], "no term \(term)")
            if i == 0 { first = l.item }
            last = l.item
            l.backward()
            t.optimizer.lr = lr
            t.optimizer.step()
        }
        return (first, last)
    }

    func testReconstructionLossDecreases() throws {
        let (a, b) = try optimise("rec", variant: .ae)
        XCTAssertLessThan(b, a * 0.9, "rec \(a) -> \(b)")
    }

    func testCLIPLossDecreases() throws {
        let (a, b) = try optimise("clip", variant: .clipAE)
        XCTAssertLessThan(b, a * 0.95, "clip \(a) -> \(b)")
    }

    func testDINOLossDecreases() throws {
        let (a, b) = try optimise("dino", variant: .sslAE)
        XCTAssertLessThan(b, a, "dino \(a) -> \(b)")
    }

    func testIBOTLossDecreases() throws {
        let (a, b) = try optimise("ibot", variant: .vtp)
        XCTAssertLessThan(b, a, "ibot \(a) -> \(b)")
    }

    func testVariantsComputeTheirTerms() throws {
        let expected: [VTPVariant: Set<String>] = [.ae: ["rec"], .clipAE: ["rec", "clip"], .sslAE: ["rec", "dino", "ibot"],
                                                   .vtp: ["rec", "clip", "dino", "ibot"]]
        for (v, names) in expected {
            let t = try VTPFixtures.trainer(try VTPFixtures.config(v))
            XCTAssertEqual(Set(try t.losses(step: 0).terms.keys), names, "\(v)")
        }
    }

    func testBottleneckReceivesOnlyReconstructionGradients() throws {
        let t = try VTPFixtures.trainer(try VTPFixtures.config(.vtp))
        t.model.zeroGrad()
        let out = try t.losses(step: 0)
        let semantic = out.terms["clip"]! + out.terms["dino"]! + out.terms["ibot"]!
        semantic.backward()
        XCTAssertNil(t.model.bottleneck.weight.grad, "semantic losses must not reach the bottleneck")
        XCTAssertTrue(t.model.decoder.parameters().allSatisfy { $0.grad == nil })
        let encGrad = t.model.encoder.blocks.items[0].attn.qkv.weight.grad
        XCTAssertNotNil(encGrad, "semantic losses train the trunk")
        XCTAssertGreaterThan(encGrad?.array.map(abs).max() ?? 0, 0)

        t.model.zeroGrad()
        let out2 = try t.losses(step: 0)
        out2.terms["rec"]!.backward()
        let g = try XCTUnwrap(t.model.bottleneck.weight.grad)
        XCTAssertGreaterThan(g.array.map(abs).max()!, 0)
        XCTAssertNil(t.model.clip.visualProj.weight.grad, "reconstruction must not reach the CLIP head")
        XCTAssertNil(t.model.dinoHead.l0.weight.grad, "reconstruction must not reach the DINO head")
    }

    func testTeacherIsEMAOfStudentAndGetsNoGradient() throws {
        let t = try VTPFixtures.trainer(try VTPFixtures.config(.vtp))
        XCTAssertEqual(t.model.teacherEncoder.patchEmbed.weight.array, t.model.encoder.patchEmbed.weight.array,
                       "teacher starts as a copy")
        XCTAssertEqual(t.emaMomentum(at: 0), 0.992, accuracy: 1e-6)
        XCTAssertEqual(t.emaMomentum(at: t.config.train.steps), 1, accuracy: 1e-6)
        let before = t.model.teacherEncoder.patchEmbed.weight.array
        let m = t.emaMomentum(at: 0)
        try t.step()
        let student = t.model.encoder.patchEmbed.weight.array
        let after = t.model.teacherEncoder.patchEmbed.weight.array
        XCTAssertNotEqual(after, before, "teacher moved")
        for j in 0..<after.count { XCTAssertEqual(after[j], m * before[j] + (1 - m) * student[j], accuracy: 1e-6) }
        XCTAssertTrue(t.model.teacherParameters.allSatisfy { $0.grad == nil && !$0.requiresGrad })
        XCTAssertGreaterThan(t.teacherTemp(at: t.config.train.steps), t.teacherTemp(at: 0))
    }

    func testInfoNCEIsLowForMatchingPairs() {
        let a = Tensor([1, 0, 0, 1], shape: [2, 2])
        let s = Tensor([4.6], shape: [1])
        let match = VTPLosses.clip(image: a, text: a, logitScale: s, maxScale: 4.6).item
        let swapped = VTPLosses.clip(image: a, text: Tensor([0, 1, 1, 0], shape: [2, 2]), logitScale: s, maxScale: 4.6).item
        XCTAssertLessThan(match, 0.01)
        XCTAssertGreaterThan(swapped, 50)
    }

    func testPresetsResolveAndRejectUnknown() throws {
        for name in VTPPresets.names { XCTAssertNoThrow(try VTPPresets.resolve(name), name) }
        let c = try VTPPresets.resolve("vtp-fmnist32-s", budget: 2)
        XCTAssertEqual(c.train.steps, 400)
        XCTAssertEqual(c.loss.recWeight, 0.1)
        XCTAssertEqual(try VTPConfig.from(json: c.json()), c)
        XCTAssertThrowsError(try VTPPresets.resolve("nope-fmnist32-s"))
        XCTAssertThrowsError(try VTPPresets.resolve("vtp-fmnist32-s", budget: 0))
    }
}

final class VTPEmojiPresetTests: XCTestCase {
    /// The emoji presets train on image-caption pairs (names/keywords) at 32 px.
    func testEmojiPresetTakesAStep() throws {
        var c = try VTPPresets.resolve("vtp-emoji32-xs")
        c.train.steps = 1
        c.train.trainLimit = 16
        let t = try VTPTrainer(config: c, text: try VTPFixtures.text())
        let s = try t.step()
        XCTAssertEqual(t.data.dataset.name, "emoji")
        for k in ["loss_rec", "loss_clip", "loss_dino", "loss_ibot"] { XCTAssertTrue(s.metrics[k]?.isFinite ?? false, k) }
    }
}

final class SSLCollapseStatsTests: XCTestCase {
    /// The two collapse modes and a healthy teacher, on hand-made logits (K = 4, ln 4 = 1.386).
    func testCollapseStatsSeparateUniformDominantAndHealthyTargets() {
        let K = 4, center = [Float](repeating: 0, count: K)
        // Uniform: equal logits -> every row uniform, batch uniform.
        let uniform = VTPLosses.collapseStats([Tensor([Float](repeating: 1, count: 2 * K), shape: [2, K])], center: center, temperature: 0.1)
        XCTAssertEqual(uniform.sampleEntropy, log(4), accuracy: 1e-6)
        XCTAssertEqual(uniform.batchEntropy, log(4), accuracy: 1e-6)
        // Dominant: every row on prototype 0 -> both entropies ~0.
        let dominant = VTPLosses.collapseStats([Tensor([10, 0, 0, 0, 10, 0, 0, 0], shape: [2, K])], center: center, temperature: 0.1)
        XCTAssertLessThan(dominant.sampleEntropy, 1e-6)
        XCTAssertLessThan(dominant.batchEntropy, 1e-6)
        // Healthy: rows sharp on different prototypes -> sample entropy ~0, batch entropy ln 4.
        let healthy = VTPLosses.collapseStats([Tensor([10, 0, 0, 0, 0, 10, 0, 0], shape: [2, K]),
                                               Tensor([0, 0, 10, 0, 0, 0, 0, 10], shape: [2, K])], center: center, temperature: 0.1)
        XCTAssertLessThan(healthy.sampleEntropy, 1e-6)
        XCTAssertEqual(healthy.batchEntropy, log(4), accuracy: 1e-6)
        XCTAssertEqual(healthy.effectivePrototypes, 4, accuracy: 1e-5)
        // The centre is subtracted: a centre equal to the dominant logits leaves uniform targets.
        let centred = VTPLosses.collapseStats([Tensor([10, 0, 0, 0, 10, 0, 0, 0], shape: [2, K])], center: [10, 0, 0, 0], temperature: 0.1)
        XCTAssertEqual(centred.sampleEntropy, log(4), accuracy: 1e-6)
        // Two rows, p = softmax([ln 3, 0]) = [0.75, 0.25]: H = -(0.75 ln 0.75 + 0.25 ln 0.25) (value checked by hand).
        let two = VTPLosses.collapseStats([Tensor([Float(log(3.0)), 0], shape: [1, 2])], center: [0, 0], temperature: 1)
        XCTAssertEqual(two.sampleEntropy, -(0.75 * log(0.75) + 0.25 * log(0.25)), accuracy: 1e-6)
    }
}
