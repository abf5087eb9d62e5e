import XCTest
@testable import ComputeCore

/// Optimiser steps vs hand-computed values, schedules, clipping, accumulation, and learning.
final class OptimTests: XCTestCase {
    func param(_ v: [Float], grad: [Float]) -> Tensor {
        let p = Tensor(v, shape: [v.count]).requiringGrad()
        p.grad = Tensor(grad, shape: [grad.count])
        return p
    }

    func testAdamWMatchesHandComputed() {
        let p = param([1], grad: [0.5])
        let opt = AdamW([p], lr: 0.1, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.01)
        opt.step()
        XCTAssertEqual(p.item, 0.899, accuracy: 1e-6)          // 1*(1-0.001) - 0.1*0.5/0.5
        opt.step()
        XCTAssertEqual(p.item, 0.798101, accuracy: 1e-6)       // 0.899*0.999 - 0.1
    }

    func testSGDMomentumMatchesHandComputed() {
        let p = param([1], grad: [0.5])
        let opt = SGD([p], lr: 0.1, momentum: 0.9)
        opt.step(); XCTAssertEqual(p.item, 0.95, accuracy: 1e-6)
        opt.step(); XCTAssertEqual(p.item, 0.855, accuracy: 1e-6)   // buf = 0.9*0.5 + 0.5
    }

    func testRiemannianSGDStaysOnSphere() {
        let p = param([1, 0], grad: [0.3, 0.4])
        let opt = RiemannianSGD([p], lr: 0.1)
        opt.step()
        // tangent (0, 0.4) -> unit (0, 1); (1, -0.1) normalised
        XCTAssertEqual(p.ptr[0], 1 / Float(1.01).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(p.ptr[1], -0.1 / Float(1.01).squareRoot(), accuracy: 1e-6)
        // prior pulls toward mu even with zero data gradient
        let q = param([1, 0], grad: [0, 0])
        let o2 = RiemannianSGD([q], lr: 0.05, kappa: 1, priorMean: [Tensor([0, 1], shape: [2])])
        for _ in 0..<10 { o2.step() }
        XCTAssertGreaterThan(q.ptr[1], 0.4)
        XCTAssertEqual(q.ptr[0] * q.ptr[0] + q.ptr[1] * q.ptr[1], 1, accuracy: 1e-5)
    }

    func testEMAScheduleClip() {
        let s = Tensor([3], shape: [1])
        let ema = EMA([s]); s.fill(1)
        ema.shadow[0].fill(1); s.fill(3)
        ema.update(momentum: 0.9)
        XCTAssertEqual(ema.shadow[0].item, 1.2, accuracy: 1e-6)
        let sch = CosineSchedule(baseLR: 1, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(sch.lr(at: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(sch.lr(at: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(sch.lr(at: 60), 0.5, accuracy: 1e-6)
        XCTAssertEqual(sch.lr(at: 110), 0, accuracy: 1e-6)
        let p = param([0, 0], grad: [3, 4])
        XCTAssertEqual(Gradients.clipNorm([p], maxNorm: 1), 5, accuracy: 1e-5)
        XCTAssertEqual(p.grad!.array[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(p.grad!.array[1], 0.8, accuracy: 1e-5)
    }

    func testGradientAccumulationEqualsFullBatch() {
        var rng = RNG(seed: 3)
        let lin = Linear(4, 3, rng: &rng)
        let x = rng.normal([8, 4]), y = rng.normal([8, 3])
        Tensor.mseLoss(lin(x), y).backward()
        let full = lin.weight.grad!.array
        lin.zeroGrad()
        for h in 0..<2 {
            Tensor.mseLoss(lin(x.slice(axis: 0, h * 4, h * 4 + 4)), y.slice(axis: 0, h * 4, h * 4 + 4)).backward()
        }
        Gradients.scale(lin.parameters(), by: 0.5)
        for (a, b) in zip(full, lin.weight.grad!.array) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testMLPFitsNonlinear2DTask() {
        // Inside vs outside a circle of radius 0.7 in [-1, 1]^2: not linearly separable.
        var rng = RNG(seed: 11)
        let l1 = Linear(2, 32, rng: &rng), l2 = Linear(32, 32, rng: &rng), l3 = Linear(32, 2, rng: &rng)
        let params = [l1, l2, l3].flatMap { $0.parameters() }
        let opt = AdamW(params, lr: 1e-2, weightDecay: 0)
        func batch(_ n: Int) -> (Tensor, [Int]) {
            let x = rng.uniform([n, 2], -1, 1)
            let y = (0..<n).map { i -> Int in
                let a = x.ptr[2 * i], b = x.ptr[2 * i + 1]; return a * a + b * b < 0.49 ? 1 : 0
            }
            return (x, y)
        }
        let f: (Tensor) -> Tensor = { l3(l2(l1($0).tanh()).tanh()) }
        for _ in 0..<400 {
            let (x, y) = batch(128)
            Optimizer_zero(params)
            Tensor.crossEntropy(f(x), targets: y).backward()
            opt.step()
        }
        let (xt, yt) = batch(1000)
        let logits = withNoGrad { f(xt) }
        var correct = 0
        for i in 0..<1000 { if (logits.ptr[2 * i + 1] > logits.ptr[2 * i] ? 1 : 0) == yt[i] { correct += 1 } }
        XCTAssertGreaterThan(correct, 940, "accuracy \(correct)/1000")
    }

    func Optimizer_zero(_ ps: [Tensor]) { for p in ps { p.zeroGrad() } }
}
