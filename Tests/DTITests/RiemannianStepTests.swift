import ComputeCore
import XCTest
@testable import DTI

/// DTI's update (METHODS.md §4) against hand computations, and its invariants.
final class RiemannianStepTests: XCTestCase {
    /// v = (1,0,0), ∂L/∂v = (0.5,2,0), μ = (0,0,1), κ = 0.5, lr = 0.1, by hand:
    /// g = (0.5, 2, -0.5); tangent (0, 2, -0.5); ‖·‖ = √4.25; v - lr·ĝ = (1, -0.0970143, 0.0242536);
    /// retracted: (0.9950372, -0.0965329, 0.0241332).
    func testStepMatchesHandComputation() {
        let v = Tensor([1, 0, 0], shape: [1, 3]).requiringGrad()
        v.accumulateGrad(Tensor([0.5, 2, 0], shape: [1, 3]))
        let prior = VMFPrior(mean: [0, 0, 1], kappa: 0.5)
        XCTAssertEqual(prior.gradient, [0, 0, -0.5])
        RiemannianSGD([v], lr: 0.1, kappa: 0.5, priorMean: [Tensor(prior.mean, shape: [1, 3])]).step()
        let want: [Float] = [0.9950372, -0.0965329, 0.0241332]
        for (a, b) in zip(v.array, want) { XCTAssertEqual(a, b, accuracy: 2e-6) }
    }

    /// The learner's step on the real objective equals the formula applied to its autograd gradient.
    func testLearnerStepIsTheRiemannianFormula() throws {
        let l = try DTITestSupport.learner(.dti)
        let v0 = l.token.parameter.array
        let batch = l.objective.batch(step: 0, size: l.config.batchSize, seed: l.config.seed)
        let vt = Tensor(v0, shape: [1, 384]).requiringGrad()
        l.objective.loss(batch, embedding: vt * l.token.mStar).backward()
        let dLdv = try XCTUnwrap(vt.grad).array
        var g = zip(dLdv, l.prior.gradient).map { $0 + $1 }
        let dot = zip(g, v0).reduce(0) { $0 + $1.0 * $1.1 }
        g = zip(g, v0).map { $0 - dot * $1 }
        let gn = DTITestSupport.norm(g)
        let stepped = zip(v0, g).map { $0 - l.config.lr * $1 / (gn + 1e-8) }
        let want = stepped.map { $0 / DTITestSupport.norm(stepped) }
        _ = l.step()
        let got = l.token.parameter.array
        XCTAssertLessThan(zip(got, want).map { abs($0 - $1) }.max()!, 1e-5)
        // A fixed-length step: the angle moved is ≈ lr (atan(lr) exactly).
        let cosMoved = zip(got, v0).reduce(0) { $0 + $1.0 * $1.1 }
        XCTAssertEqual(acosf(min(1, cosMoved)), atanf(l.config.lr), accuracy: 1e-3)
    }

    func testNormEqualsMStarAfterEveryStep() throws {
        let l = try DTITestSupport.learner(.dti, steps: 8)
        let m = l.token.mStar
        XCTAssertEqual(l.token.norm, m, accuracy: 1e-5 * m)
        for s in l.steps() { XCTAssertEqual(s.norm, m, accuracy: 1e-5 * m, "step \(s.step)") }
        XCTAssertEqual(l.stepIndex, 8)
    }

    /// m* measured independently from the frozen table: mean L2 norm of non-zero rows.
    func testMStarIsTheTablesMeanNonZeroRowNorm() throws {
        let enc = try DTITestSupport.encoder()
        let table = enc.vocabularyTable, D = 384
        var total = 0.0, n = 0
        for r in 0..<table.shape[0] {
            var s = 0.0
            for d in 0..<D { let x = Double(table.ptr[r * D + d]); s += x * x }
            if s > 0 { total += s.squareRoot(); n += 1 }
        }
        XCTAssertGreaterThan(n, 30_000)
        XCTAssertEqual(try DTITestSupport.mStar(), Float(total / Double(n)), accuracy: 1e-4)
    }

    func testPriorGradientMatchesFiniteDifferences() {
        var rng = RNG(seed: 4)
        let prior = VMFPrior(mean: rng.normal([16]).array, kappa: 0.7)
        let v = rng.normal([16]).array, h: Float = 1e-2
        for i in 0..<16 {
            var a = v, b = v
            a[i] += h; b[i] -= h
            let fd = (prior.negativeLogDensity(a) - prior.negativeLogDensity(b)) / (2 * h)
            XCTAssertEqual(prior.gradient[i], fd, accuracy: 1e-4)
        }
        XCTAssertEqual(DTITestSupport.norm(prior.gradient), 0.7, accuracy: 1e-5)
    }

    func testSlerpEndpointsAndConstantNorm() {
        var rng = RNG(seed: 9)
        let a = rng.normal([32]).array, b = rng.normal([32]).array, m: Float = 0.83
        let a0 = ConceptBlend.blend(a, b, t: 0, norm: m), b1 = ConceptBlend.blend(a, b, t: 1, norm: m)
        for (x, y) in zip(a0, ConceptBlend.normalized(a)) { XCTAssertEqual(x, m * y, accuracy: 1e-5) }
        for (x, y) in zip(b1, ConceptBlend.normalized(b)) { XCTAssertEqual(x, m * y, accuracy: 1e-5) }
        var last: [Float]? = nil
        for k in 0...10 {
            let e = ConceptBlend.blend(a, b, t: Float(k) / 10, norm: m)
            XCTAssertEqual(DTITestSupport.norm(e), m, accuracy: 1e-5)
            if let p = last {   // equal angular increments along the great circle
                let cosStep = zip(p, e).reduce(0) { $0 + $1.0 * $1.1 } / (m * m)
                let total = acosf(zip(ConceptBlend.normalized(a), ConceptBlend.normalized(b)).reduce(0) { $0 + $1.0 * $1.1 })
                XCTAssertEqual(acosf(min(1, cosStep)), total / 10, accuracy: 1e-3)
            }
            last = e
        }
    }
}
