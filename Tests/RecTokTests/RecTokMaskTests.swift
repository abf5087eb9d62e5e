import ComputeCore
import Glibc
import VTP
import XCTest
@testable import RecTok

final class RecTokMaskTests: XCTestCase {
    func testMaskRatioRule() throws {
        // r = max(0, U(-0.1, 0.4)): hand values at u = 0, 0.2 (the clamp edge), 0.5, 1.
        XCTAssertEqual(RecTokMask.ratio(u: 0, min: -0.1, max: 0.4), 0)
        XCTAssertEqual(RecTokMask.ratio(u: 0.1, min: -0.1, max: 0.4), 0)
        XCTAssertEqual(RecTokMask.ratio(u: 0.5, min: -0.1, max: 0.4), 0.15, accuracy: 1e-7)
        XCTAssertEqual(RecTokMask.ratio(u: 1, min: -0.1, max: 0.4), 0.4, accuracy: 1e-7)
        // Visible count ceil(T (1 - r)): 64 tokens at r = 0.15 -> ceil(54.4) = 55; r = 0 -> all.
        XCTAssertEqual(RecTokMask.visibleCount(tokens: 64, ratio: 0.15), 55)
        XCTAssertEqual(RecTokMask.visibleCount(tokens: 64, ratio: 0), 64)
        XCTAssertEqual(RecTokMask.visibleCount(tokens: 64, ratio: 0.4), 39)

        // The trainer's draws: one ratio per batch in [0, 0.4]. All 64 tokens stay visible when
        // r < 1/64: P = (0.1 + 1/64) / 0.5 ≈ 0.23 (0.2 of it the clamp at 0).
        let t = try RecTokFixtures.trainer(try RecTokFixtures.config())
        var zeros = 0, ratios: [Float] = []
        for s in 0..<300 {
            let m = t.draws(step: s, batch: 4).mask
            XCTAssertEqual(m.batch, 4)
            XCTAssertTrue(m.visible.allSatisfy { $0.count == m.visibleCount })
            ratios.append(m.ratio)
            if m.visibleCount == 64 { zeros += 1 }
        }
        XCTAssertLessThanOrEqual(ratios.max()!, 0.4 + 1e-6)
        XCTAssertGreaterThan(ratios.max()!, 0.35)
        XCTAssertEqual(Double(zeros) / 300, (0.1 + 1.0 / 64) / 0.5, accuracy: 0.07)
        // Each image gets its own positions.
        let m = t.draws(step: 7, batch: 4).mask
        if m.visibleCount < 64 { XCTAssertNotEqual(m.visible[0], m.visible[1]) }
        // Same step, same draws (resume); another step, other draws.
        XCTAssertEqual(t.draws(step: 7, batch: 4).mask, m)
        XCTAssertEqual(t.draws(step: 7, batch: 4).t, t.draws(step: 7, batch: 4).t)
        XCTAssertNotEqual(t.draws(step: 8, batch: 4).t, t.draws(step: 7, batch: 4).t)
    }

    func testGatherAndFillByHand() {
        let mask = RecTokMask(tokens: 4, visible: [[2, 0], [3, 1]])
        XCTAssertEqual(mask.visible, [[0, 2], [1, 3]])
        XCTAssertEqual(mask.masked, [[1, 3], [0, 2]])
        XCTAssertEqual(mask.ratio, 0.5)
        // x [2, 4, 1] = 0...7: visible rows are (0, 2) of image 0 and (1, 3) of image 1.
        let x = Tensor((0..<8).map(Float.init), shape: [2, 4, 1])
        let v = mask.gatherVisible(x)
        XCTAssertEqual(v.shape, [2, 2, 1])
        XCTAssertEqual(v.array, [0, 2, 5, 7])
        // Fill puts the token (9) at masked positions and the visible values back in place.
        let full = mask.fill(v, token: Tensor([9], shape: [1]))
        XCTAssertEqual(full.array, [0, 9, 2, 9, 9, 5, 9, 7])
        // Nothing masked: both are the identity.
        let none = RecTokMask.none(batch: 2, tokens: 4)
        XCTAssertEqual(none.fill(none.gatherVisible(x), token: Tensor([9], shape: [1])).array, x.array)
    }

    func testFillAndGatherGradientsMatchFiniteDifferences() {
        var rng = RNG(seed: 3)
        let mask = RecTokMask(tokens: 5, visible: [[0, 3, 4], [1, 2, 3]])
        let w = rng.normal([2, 5, 3])
        FiniteDifference.check([rng.normal([2, 3, 3]), rng.normal([3])]) { i in
            (mask.fill(i[0], token: i[1]) * w).sum()
        }
        let w2 = rng.normal([2, 3, 3])
        FiniteDifference.check([rng.normal([2, 5, 3])]) { i in (mask.gatherVisible(i[0]) * w2).sum() }
    }

    /// Per-sample 2-D RoPE tables (ComputeCore's `RoPE(rows:cols:batch:)`, added for MAE-style
    /// masking): each image rotates by its own positions, and gradients through the rotation and
    /// through attention with it match finite differences.
    func testPerSampleRoPEByHandAndGradients() {
        var rng = RNG(seed: 12)
        let mask = RecTokMask(tokens: 4, visible: [[0, 3], [1, 2]])
        let rope = mask.rope(grid: 2, headDim: 4)
        XCTAssertEqual(rope.batch, 2)
        XCTAssertEqual(rope.tokens, 3)
        // Image 1's second visible token sits at grid (1, 0): its row pair turns by angle 1 rad,
        // its column pair stays; the CLS (first token) is not rotated.
        let x = Tensor([Float](repeating: 0, count: 2 * 3 * 4).enumerated().map { $0.offset % 4 == 0 ? 1 : 0 }, shape: [2, 3, 4])
        let r = rope.apply(x, heads: 1).array
        XCTAssertEqual(Array(r[0..<4]), [1, 0, 0, 0])
        XCTAssertEqual(r[(1 * 3 + 2) * 4 + 0], cosf(1), accuracy: 1e-6)
        XCTAssertEqual(r[(1 * 3 + 2) * 4 + 1], sinf(1), accuracy: 1e-6)
        // Same image positions as a shared table give the same rotation.
        let shared = RoPE(rows: [nil, 0, 1], cols: [nil, 1, 0], headDim: 4)
        XCTAssertEqual(Array(r[12..<24]), shared.apply(x.slice(axis: 0, 1, 2), heads: 1).array)
        let w = rng.normal([2, 3, 8])
        FiniteDifference.check([rng.normal([2, 3, 8])]) { i in (rope.apply(i[0], heads: 2) * w).sum() }
        let w2 = rng.normal([2, 3, 8])
        FiniteDifference.check([rng.normal([2, 3, 24])]) { i in (Tensor.attention(qkv: i[0], heads: 2, rope: rope) * w2).sum() }
    }

    /// The encoder sees visible tokens only: masked patches' pixels cannot change its output.
    func testEncoderSeesOnlyVisiblePatches() throws {
        let c = try RecTokFixtures.config()
        let model = RecTokModel(c.model, teacherChannels: 16, seed: 1)
        var rng = RNG(seed: 5)
        let T = c.model.tokens, P = c.model.patchDim
        let x = rng.uniform([2, T, P])
        let mask = RecTokMask.random(batch: 2, tokens: T, ratio: 0.4, rng: &rng)
        let base = withNoGrad { model.posterior(x, mask: mask) }
        XCTAssertEqual(base.mean.shape, [2, mask.visibleCount, c.model.latentChannels])
        // Scramble every masked patch of both images.
        let scrambled = x.copy()
        for b in 0..<2 { for p in mask.masked[b] { for j in 0..<P { scrambled.ptr[(b * T + p) * P + j] = rng.uniform() * 5 - 2 } } }
        let after = withNoGrad { model.posterior(scrambled, mask: mask) }
        XCTAssertEqual(after.mean.array, base.mean.array)
        XCTAssertEqual(after.logVar.array, base.logVar.array)
        // A visible patch does change it (the test can fail).
        let touched = x.copy()
        for j in 0..<P { touched.ptr[mask.visible[0][0] * P + j] += 0.5 }
        XCTAssertGreaterThan(RecTokFixtures.maxDiff(withNoGrad { model.posterior(touched, mask: mask) }.mean.array, base.mean.array), 1e-4)
    }

    /// Per-sample RoPE: an image encodes the same alone or in a batch with other positions, and with
    /// nothing masked the encoder is VTP's ViT encoder (same tokens, CLS dropped).
    func testVisibleEncodingMatchesFullEncoderAndIsPerImage() throws {
        let c = try RecTokFixtures.config()
        let model = RecTokModel(c.model, teacherChannels: nil, seed: 2)
        var rng = RNG(seed: 6)
        let T = c.model.tokens, D = c.model.width
        let x = rng.uniform([3, T, c.model.patchDim])
        let full = withNoGrad { model.encoder(x, grid: c.model.grid).slice(axis: 1, 1, T + 1) }
        let visibleAll = withNoGrad { model.encoder.visibleTokens(x, grid: c.model.grid, mask: .none(batch: 3, tokens: T)) }
        XCTAssertLessThan(RecTokFixtures.maxDiff(full.array, visibleAll.array), 1e-5)

        let mask = RecTokMask.random(batch: 3, tokens: T, ratio: 0.3, rng: &rng)
        let batch = withNoGrad { model.encoder.visibleTokens(x, grid: c.model.grid, mask: mask) }
        let V = mask.visibleCount
        for b in 0..<3 {
            let one = RecTokMask(tokens: T, visible: [mask.visible[b]])
            let alone = withNoGrad { model.encoder.visibleTokens(x.slice(axis: 0, b, b + 1), grid: c.model.grid, mask: one) }
            let rows = Array(batch.array[(b * V * D)..<((b + 1) * V * D)])
            XCTAssertLessThan(RecTokFixtures.maxDiff(alone.array, rows), 1e-5, "image \(b)")
        }
        // Positions matter: the same five patches, one of them placed elsewhere on the grid, encode differently.
        let P = c.model.patchDim
        let here = RecTokMask(tokens: T, visible: [[0, 5, 10, 20, 30]]), there = RecTokMask(tokens: T, visible: [[0, 5, 10, 20, 45]])
        let moved = x.slice(axis: 0, 0, 1).copy()
        for j in 0..<P { moved.ptr[45 * P + j] = moved.ptr[30 * P + j] }
        let a = withNoGrad { model.encoder.visibleTokens(x.slice(axis: 0, 0, 1), grid: c.model.grid, mask: here) }
        let b = withNoGrad { model.encoder.visibleTokens(moved, grid: c.model.grid, mask: there) }
        XCTAssertGreaterThan(RecTokFixtures.maxDiff(a.array, b.array), 1e-4)
    }
}
