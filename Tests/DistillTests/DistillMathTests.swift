import ComputeCore
import FlowGen
import Glibc
import XCTest
@testable import Distill

/// TrigFlow conversion, the forward-mode tangents against finite differences, MeanFlow's target.
final class DistillMathTests: XCTestCase {
    typealias S = DistillTestSupport

    func testTrigFlowConversionOfAnExactVelocityIsTheTrigFlowODE() {
        // With the exact flow velocity v = ε - x0, σ_d·F must equal dx_τ/dτ = -sin τ·x0 + σ_d·cos τ·ε by hand.
        var rng = RNG(seed: 1)
        let B = 3, sd: Float = 0.5
        let x0 = rng.normal([B, 4, 2]), eps = rng.normal([B, 4, 2])
        let tau: [Float] = [0.1, 0.8, 1.5]
        let x = TrigFlow.interpolate(x0, eps, tau: tau, sigmaD: sd)
        var seenT: [Float] = []
        let F = TrigFlow.F(x, tau: Tensor(tau, shape: [B]), sigmaD: sd) { xt, t in
            seenT = t.array
            // the point handed to the flow model is x_t = (1 - t)·x0 + t·ε
            let expect = FlowSchedule.interpolate(x0, eps, t: t.array)
            XCTAssertLessThan(S.relErr(xt, expect), 1e-5)
            return eps - x0
        }
        for b in 0..<B {
            let c = cosf(tau[b]), s = sinf(tau[b])
            XCTAssertEqual(seenT[b], sd * s / (c + sd * s), accuracy: 1e-6)
            XCTAssertEqual(TrigFlow.tau(flowTime: seenT[b], sigmaD: sd), tau[b], accuracy: 1e-5)
            for i in 0..<8 {
                let k = b * 8 + i
                XCTAssertEqual(F.ptr[k] * sd, -s * x0.ptr[k] + sd * c * eps.ptr[k], accuracy: 1e-5)
            }
        }
        // Two steps: the middle flow time 0.5 is sCM's τ = 1.1 (σ_d = 0.5).
        XCTAssertEqual(TrigFlow.tau(flowTime: 0.5, sigmaD: sd), atanf(2), accuracy: 1e-6)
    }

    func testGuidedTeacherTrigVelocityMatchesHandComputation() throws {
        // dx_τ/dτ of the guided teacher vs scalar arithmetic on separate conditional / null forwards.
        let teacher = try S.teacher()
        var cfg = try S.config(.scm); cfg.guidance = 2.5
        let trainer = try DistillTrainer(config: cfg, teacher: teacher)
        var rng = RNG(seed: 2)
        let mc = teacher.config, B = 2, sd = cfg.sigmaD
        let x = rng.normal([B, mc.tokens, mc.latentChannels]), tau: [Float] = [0.4, 1.2]
        let text = TextContext([S.prompt(seed: 1), S.prompt(seed: 2)], tokens: mc.textTokens, dim: mc.textDim)
        let got = trainer.teacherTrigVelocity(x, tau: Tensor(tau, shape: [B]), text: text)
        let per = mc.tokens * mc.latentChannels
        for b in 0..<B {
            let c = cosf(tau[b]), s = sinf(tau[b]), scale = c + sd * s, t = sd * s / scale
            let xb = x.indexSelect(axis: 0, [b]) / scale
            let tb = Tensor([t], shape: [1])
            let vc = withNoGrad { teacher(xb, t: tb, text: text.rows([b])) }
            let vu = withNoGrad { teacher(xb, t: tb, text: teacher.nullContext(batch: 1, tokens: mc.textTokens)) }
            for i in 0..<per {
                let v = vu.ptr[i] + 2.5 * (vc.ptr[i] - vu.ptr[i])
                let xt = xb.ptr[i], x0 = xt - t * v, e = xt + (1 - t) * v
                XCTAssertEqual(got.ptr[b * per + i], -s * x0 + sd * c * e, accuracy: 1e-4)
            }
        }
    }

    func testSCMTangentByJVPMatchesCentralDifferences() throws {
        let trainer = try DistillTrainer(config: try S.config(.scm), teacher: try S.teacher())
        var rng = RNG(seed: 4)
        let mc = trainer.student.net.config, B = 3
        let x0 = rng.normal([B, mc.tokens, mc.latentChannels]), eps = rng.normal(x0.shape)
        let text = TextContext((0..<B).map { S.prompt(seed: UInt64($0)) }, tokens: mc.textTokens, dim: mc.textDim)
        let tau: [Float] = [0.3, 0.9, 1.3]
        let terms = trainer.scmTerms(x0: x0, eps: eps, tau: tau, text: text, r: 1)
        let h: Float = 1e-2
        let Fp = withNoGrad { trainer.studentF(terms.x + terms.dxdt * h, tau: Tensor(tau.map { $0 + h }, shape: [B]), text: text) }
        let Fm = withNoGrad { trainer.studentF(terms.x - terms.dxdt * h, tau: Tensor(tau.map { $0 - h }, shape: [B]), text: text) }
        let fd = (Fp - Fm) / (2 * h)
        XCTAssertGreaterThan(PerSample.norms(fd).reduce(0, +), 1e-2, "tangent must be non-trivial")
        XCTAssertLessThan(S.relErr(terms.dFdt, fd), 2e-2)
        // The primal F is the plain forward.
        let F0 = withNoGrad { trainer.studentF(terms.x, tau: Tensor(tau, shape: [B]), text: text) }
        XCTAssertLessThan(S.relErr(terms.F, F0), 1e-5)
        // g with r = 0 is the first term only: -cos²τ·(σ_d F - dx/dτ).
        let g0 = trainer.scmTerms(x0: x0, eps: eps, tau: tau, text: text, r: 0).g
        let c2 = PerSample.column(tau.map { cosf($0) * cosf($0) })
        XCTAssertLessThan(S.relErr(g0, (terms.F * trainer.config.sigmaD - terms.dxdt) * c2 * -1), 1e-5)
    }

    func testMeanFlowJVPMatchesCentralDifferences() throws {
        let trainer = try DistillTrainer(config: try S.config(.meanflow), teacher: try S.teacher())
        // Move the interval embedding off zero so ∂u/∂r is non-trivial.
        var rng = RNG(seed: 6)
        for p in trainer.student.intervalEmbed!.parameters() { p.assign(p + rng.normal(p.shape, std: 0.2)) }
        let mc = trainer.student.net.config, B = 3
        let x0 = rng.normal([B, mc.tokens, mc.latentChannels]), eps = rng.normal(x0.shape)
        let text = TextContext((0..<B).map { S.prompt(seed: UInt64($0)) }, tokens: mc.textTokens, dim: mc.textDim)
        let r: [Float] = [0.1, 0.3, 0.5], t: [Float] = [0.4, 0.8, 0.6]
        let terms = trainer.meanFlowTerms(x0: x0, eps: eps, r: r, t: t, text: text)
        let z = FlowSchedule.interpolate(x0, eps, t: t), h: Float = 1e-2
        func u(_ s: Float) -> Tensor {
            withNoGrad { trainer.student.meanVelocity(z + terms.v * s, r: Tensor(r, shape: [B]), t: Tensor(t.map { $0 + s }, shape: [B]), text: text) }
        }
        let fd = (u(h) - u(-h)) / (2 * h)
        XCTAssertGreaterThan(PerSample.norms(fd).reduce(0, +), 1e-2)
        XCTAssertLessThan(S.relErr(terms.dudt, fd), 2e-2)
        let expect = terms.v - PerSample.column(zip(t, r).map { $0 - $1 }) * fd
        XCTAssertLessThan(S.relErr(terms.target, expect), 1e-2)
    }

    func testMeanFlowTargetWithEqualTimesIsFlowMatching() throws {
        let teacher = try S.teacher()
        var cfg = try S.config(.meanflow); cfg.guidance = 1
        let trainer = try DistillTrainer(config: cfg, teacher: teacher)
        var rng = RNG(seed: 8)
        let mc = teacher.config, B = 3
        let x0 = rng.normal([B, mc.tokens, mc.latentChannels]), eps = rng.normal(x0.shape)
        let text = TextContext((0..<B).map { S.prompt(seed: UInt64($0)) }, tokens: mc.textTokens, dim: mc.textDim)
        let t: [Float] = [0.2, 0.5, 0.9]
        let terms = trainer.meanFlowTerms(x0: x0, eps: eps, r: t, t: t, text: text)
        // r = t: the target is the (guided) teacher velocity itself, u_tgt = v.
        XCTAssertEqual(terms.target.array, terms.v.array)
        let z = FlowSchedule.interpolate(x0, eps, t: t)
        let vTeacher = withNoGrad { teacher(z, t: Tensor(t, shape: [B]), text: text) }
        XCTAssertLessThan(S.relErr(terms.target, vTeacher), 1e-5)
        // The untrained student equals the teacher at r = t (cloned embedder starts at zero output).
        XCTAssertLessThan(S.relErr(terms.u, vTeacher), 1e-5)
        // r < t moves the target away from v.
        let other = trainer.meanFlowTerms(x0: x0, eps: eps, r: [0, 0, 0], t: t, text: text)
        XCTAssertGreaterThan(S.relErr(other.target, other.v), 1e-3)
    }

    func testIntervalDrawsAreSortedWithAQuarterEqual() throws {
        let trainer = try DistillTrainer(config: try S.config(.meanflow), teacher: try S.teacher())
        var rng = RNG(seed: 9)
        let draws = (0..<4000).map { _ in trainer.sampleInterval(rng: &rng) }
        XCTAssertTrue(draws.allSatisfy { $0.r <= $0.t && $0.r > 0 && $0.t < 1 })
        let equal = Float(draws.filter { $0.r == $0.t }.count) / 4000
        XCTAssertEqual(equal, 0.25, accuracy: 0.03)
        var r2 = RNG(seed: 10)
        let taus = (0..<4000).map { _ in TrigFlow.sampleTau(r2.normal(), mean: 0.2, std: 1.6, sigmaD: 0.5) }
        XCTAssertTrue(taus.allSatisfy { $0 > 0 && $0 < Float.pi / 2 })
        // median τ = atan(e^0.2 / 0.5)
        XCTAssertEqual(taus.sorted()[2000], atanf(expf(0.2) / 0.5), accuracy: 0.05)
    }
}
