import ComputeCore
import XCTest
@testable import FlowGen

final class FlowSamplerTests: XCTestCase {
    func makeModel() throws -> FlowGenDiT {
        let m = FlowGenDiT(try FlowGenTestSupport.tinyConfig().model, seed: 2)
        FlowGenTestSupport.perturb(m)
        m.setFrozen(true)
        return m
    }

    /// An image depends only on (model, prompt, seed, steps, guidance, sampler), never on the batch.
    func testSamplesAreIdenticalWhateverElseIsInTheBatch() throws {
        let m = try makeModel(), norm = LatentNormalizer(mean: [0.1, -0.2], std: [1.5, 0.5])
        let p = (0..<4).map { FlowGenTestSupport.prompt(seed: UInt64($0), length: 2 + $0) }
        for kind in SamplerKind.allCases {
            func run(_ idx: [Int], _ seeds: [UInt64]) throws -> [[Float]] {
                let s = try FlowSampler(model: m, normalizer: norm,
                                        request: SampleRequest(prompts: idx.map { p[$0] }, seeds: seeds, steps: 5, guidance: 3, sampler: kind))
                s.run()
                let a = s.latents.array, per = a.count / idx.count
                return (0..<idx.count).map { Array(a[($0 * per)..<(($0 + 1) * per)]) }
            }
            let alone = try run([1], [42])[0]
            let big = try run([0, 1, 2, 3], [7, 42, 9, 11])
            let swapped = try run([3, 1], [5, 42])
            let many = try run([0, 2, 3, 0, 2, 3, 0, 2, 3, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 42, 10])  // second chunk, position 1
            XCTAssertEqual(big[1], alone, "\(kind)")
            XCTAssertEqual(swapped[1], alone, "\(kind)")
            XCTAssertEqual(many[9], alone, "\(kind)")
            XCTAssertNotEqual(big[0], alone)
            XCTAssertNotEqual(try run([1], [43])[0], alone, "another seed gives another image")
            // Several samples per forward (batch-invariant GEMMs): the same bits as one per forward.
            let chunked = try FlowSampler(model: m, normalizer: norm,
                                          request: SampleRequest(prompts: [0, 1, 2, 3].map { p[$0] }, seeds: [7, 42, 9, 11], steps: 5,
                                                                 guidance: 3, sampler: kind), chunk: 3)
            chunked.run()
            let ca = chunked.latents.array, per = ca.count / 4
            XCTAssertEqual(Array(ca[per..<(2 * per)]), alone, "\(kind) chunk 3")
            // A sample leaving in the middle leaves the others' bits unchanged.
            let leaving = try FlowSampler(model: m, normalizer: norm,
                                          request: SampleRequest(prompts: [0, 1, 2].map { p[$0] }, seeds: [7, 42, 9], steps: 5,
                                                                 guidance: 3, sampler: kind), chunk: 2)
            leaving.next(); leaving.next()
            leaving.retain([1, 2])
            leaving.run()
            XCTAssertEqual(leaving.latents.shape[0], 2)
            XCTAssertEqual(Array(leaving.latents.array[0..<per]), alone, "\(kind) after retain")
        }
    }

    /// Continuous batching: rows that join a running sampler at a step boundary (each then at its
    /// own step, one forward for all) get exactly the bits they get alone, and so do the rows
    /// already there; rows leave in between.
    func testRowsJoiningAtAStepBoundaryGetTheirAloneBits() throws {
        let m = try makeModel(), norm = LatentNormalizer(mean: [0.1, -0.2], std: [1.5, 0.5])
        let p = (0..<4).map { FlowGenTestSupport.prompt(seed: UInt64($0), length: 2 + $0) }
        for kind in SamplerKind.allCases {
            func alone(_ idx: [Int], _ seeds: [UInt64]) throws -> [Float] {
                let s = try FlowSampler(model: m, normalizer: norm,
                                        request: SampleRequest(prompts: idx.map { p[$0] }, seeds: seeds, steps: 5, guidance: 3, sampler: kind))
                s.run()
                return s.latents.array
            }
            let s = try FlowSampler(model: m, normalizer: norm,
                                    request: SampleRequest(prompts: [p[0], p[2]], seeds: [7, 9], steps: 5, guidance: 3, sampler: kind), chunk: 2)
            s.next(); s.next()
            try s.append(prompts: [p[1]], seeds: [42])
            XCTAssertEqual(s.rows.steps, [2, 2, 0])
            XCTAssertEqual(s.step, 0, "the least advanced row")
            s.next()
            try s.append(prompts: [p[3]], seeds: [11])
            s.next(); s.next()
            XCTAssertEqual(s.rows.steps, [5, 5, 3, 2])
            XCTAssertFalse(s.isFinished)
            s.retain([2, 3])                                                 // the finished rows leave
            s.run()
            XCTAssertEqual(s.rows.steps, [5, 5])
            let a = s.latents.array, per = a.count / 2
            XCTAssertEqual(Array(a[0..<per]), try alone([1], [42]), "\(kind): joined after 2 steps")
            XCTAssertEqual(Array(a[per...]), try alone([3], [11]), "\(kind): joined after 3 steps")
            XCTAssertEqual(s.previewLatents.array, a, "finished rows preview their result")
            // The rows that were there first are unchanged by the joins.
            let first = try FlowSampler(model: m, normalizer: norm,
                                        request: SampleRequest(prompts: [p[0], p[2]], seeds: [7, 9], steps: 5, guidance: 3, sampler: kind))
            first.next(); first.next()
            try first.append(prompts: [p[1]], seeds: [42])
            first.run()
            XCTAssertEqual(first.latents.indexSelect(axis: 0, [0, 1]).array, try alone([0, 2], [7, 9]), "\(kind)")
        }
    }

    /// The sampler's guided velocity is v_u + w (v_c - v_u) on every channel, from separate forwards.
    func testGuidedVelocityMatchesSeparateForwards() throws {
        let m = try makeModel()
        let prompts = [FlowGenTestSupport.prompt(seed: 1), FlowGenTestSupport.prompt(seed: 2, length: 4)]
        let s = try FlowSampler(model: m, normalizer: .identity(channels: 2),
                                request: SampleRequest(prompts: prompts, seeds: [1, 2], steps: 4, guidance: 2.5))
        var rng = RNG(seed: 8)
        let x = rng.normal([2, 4, 2])
        let v = s.velocity(x, ts: [0.6, 0.6], ids: [0, 1]).array
        let t = Tensor.full([2], 0.6)
        let vc = withNoGrad { m(x, t: t, text: TextContext(prompts, tokens: 4, dim: 8)) }.array
        let vu = withNoGrad { m(x, t: t, text: m.nullContext(batch: 2, tokens: 4)) }.array
        XCTAssertNotEqual(vc, vu)
        for i in 0..<v.count { XCTAssertEqual(v[i], vu[i] + 2.5 * (vc[i] - vu[i]), accuracy: 1e-4, "element \(i)") }
    }

    /// Step iterator: steps counted, x0 preview defined, Euler step by hand, early stop leaves it unfinished.
    func testStepIteratorEulerStepAndCancellation() throws {
        let m = try makeModel()
        let req = SampleRequest(prompts: [FlowGenTestSupport.prompt(seed: 3)], seeds: [4], steps: 6, guidance: 1, sampler: .euler)
        let s = try FlowSampler(model: m, normalizer: .identity(channels: 2), request: req)
        let xStart = s.x.array, t0 = s.grid[0], t1 = s.grid[1]
        let v = s.velocity(s.x, t0).array
        XCTAssertTrue(s.next())
        XCTAssertEqual(s.step, 1)
        for i in 0..<xStart.count {
            XCTAssertEqual(s.x.array[i], xStart[i] + (t1 - t0) * v[i], accuracy: 1e-5)
            XCTAssertEqual(s.previewLatents.array[i], xStart[i] - t0 * v[i], accuracy: 1e-5)
        }
        var seen = 1
        s.run { _ in seen += 1; return seen < 4 }
        XCTAssertEqual(s.step, 4)
        XCTAssertFalse(s.isFinished)
        s.run()
        XCTAssertTrue(s.isFinished)
        XCTAssertFalse(s.next())
        XCTAssertThrowsError(try FlowSampler(model: m, normalizer: .identity(channels: 2),
                                             request: SampleRequest(prompts: req.prompts, seeds: [1], steps: 0, guidance: 1))) {
            XCTAssertTrue("\($0)".contains("steps"))
        }
        XCTAssertThrowsError(try FlowSampler(model: m, normalizer: .identity(channels: 2),
                                             request: SampleRequest(prompts: req.prompts, seeds: [1], steps: 4, guidance: 21))) {
            XCTAssertTrue("\($0)".contains("guidance"))
        }
    }
}
