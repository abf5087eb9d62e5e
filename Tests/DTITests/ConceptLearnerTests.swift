import ComputeCore
import Models
import XCTest
@testable import DTI

/// The denoising objective's gradient, learning runs, resume and invalid inputs.
final class ConceptLearnerTests: XCTestCase {
    /// ∂L/∂e from autograd (through the frozen DiT and MiniLM) against central differences of the
    /// loss on one fixed batch, along the gradient and two random directions.
    func testTokenGradientMatchesFiniteDifferences() throws {
        let obj = try DTITestSupport.objective()
        let enc = try DTITestSupport.encoder()
        let e0 = try ConceptToken.classEmbedding("bag", encoder: enc)
        let batch = obj.batch(step: 3, size: 3, seed: 11)
        let et = Tensor(e0, shape: [1, 384]).requiringGrad()
        obj.loss(batch, embedding: et).backward()
        let grad = try XCTUnwrap(et.grad).array
        let gnorm = DTITestSupport.norm(grad)
        XCTAssertGreaterThan(gnorm, 0)
        func loss(_ e: [Float]) -> Double { Double(withNoGrad { obj.loss(batch, embedding: Tensor(e, shape: [1, 384])).item }) }
        var rng = RNG(seed: 5)
        let dirs = [grad.map { $0 / gnorm }] + (0..<2).map { _ in ConceptBlend.normalized(rng.normal([384]).array) }
        let h: Float = 2e-2
        for (k, u) in dirs.enumerated() {
            let fd = (loss(zip(e0, u).map { $0 + h * $1 }) - loss(zip(e0, u).map { $0 - h * $1 })) / Double(2 * h)
            let an = Double(zip(grad, u).reduce(0) { $0 + $1.0 * $1.1 })
            XCTAssertEqual(an, fd, accuracy: 0.03 * Double(gnorm) + 1e-6, "direction \(k)")
        }
    }

    /// A tiny run lowers the loss on fixed held-out batches, for both methods; TI's norm is free.
    func testTinyLearnRunLossFalls() throws {
        for method in ConceptMethod.allCases {
            let l = try DTITestSupport.learner(method, steps: 30)
            let before = l.evaluationLoss()
            var last: ConceptStepStats?
            for s in l.steps() { last = s }
            let after = l.evaluationLoss()
            XCTAssertEqual(last?.step, 30)
            XCTAssertLessThan(after, before * 0.95, "\(method): \(before) -> \(after)")
            if method == .ti { XCTAssertNotEqual(l.token.norm, l.token.mStar, accuracy: 1e-3) }
        }
    }

    /// Stopping, saving and resuming gives exactly the uninterrupted run (TI: AdamW moments too).
    func testResumeContinuesExactly() throws {
        for method in ConceptMethod.allCases {
            let full = try DTITestSupport.learner(method, steps: 6)
            for _ in full.steps() {}
            let first = try DTITestSupport.learner(method, steps: 6)
            for _ in 0..<3 { _ = first.step() }
            let path = DTITestSupport.tempPath("resume-\(method).safetensors")
            try first.save(to: path)
            let resumed = try DTITestSupport.learner(method, steps: 6)
            try resumed.restore(from: path)
            XCTAssertEqual(resumed.stepIndex, 3)
            for _ in resumed.steps() {}
            XCTAssertEqual(resumed.token.parameter.array, full.token.parameter.array, "\(method)")
        }
    }

    func testInvalidInputsNameTheField() throws {
        func field(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch let MethodError.invalidInput(f, _) { return f } catch { return "\(error)" }
        }
        for bad in ["my-bag", "<My-Bag>", "<>", "<a b>", "<-x>", "<" + String(repeating: "a", count: 33) + ">"] {
            XCTAssertEqual(field { try ConceptName.validate(bad) }, "name", bad)
        }
        XCTAssertNil(field { try ConceptName.validate("<my-bag_2>") })
        XCTAssertEqual(field { _ = try DTITestSupport.learner(.dti, classWord: "zzqxv") }, "class_word")
        XCTAssertEqual(field { _ = try DTITestSupport.learner(.dti, classWord: "[CLS]") }, "class_word")
        let enc = try DTITestSupport.encoder(), gen = try DTITestSupport.generator()
        XCTAssertEqual(field { _ = try ConceptObjective(encoder: enc, generator: gen, latents: Tensor(zeros: [0, 4, 2]), name: "<a>", templates: ["{}"]) }, "images")
        XCTAssertEqual(field { _ = try ConceptObjective(encoder: enc, generator: gen, latents: Tensor(zeros: [2, 9, 2]), name: "<a>", templates: ["{}"]) }, "images")
        XCTAssertEqual(field { _ = try DTIPresets.resolve("dti-test", method: .dti, steps: 0) }, "steps")
    }
}
