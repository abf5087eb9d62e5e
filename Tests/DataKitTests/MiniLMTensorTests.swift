import ComputeCore
import Datasets
import Models
import XCTest

/// The ComputeCore (autograd) path of MiniLM against the OpenBLAS inference path and its
/// hand-written VJP: two independent implementations must agree.
final class MiniLMTensorTests: XCTestCase {
    func testTensorForwardMatchesInferencePathWithPadding() throws {
        let enc = try MiniLMTests.encoder()
        let texts = ["a photo of a dog", "Crème brûlée is a French dessert.", "x"]
        let (ids, mask) = enc.paddedBatch(texts)
        let emb = withNoGrad { enc.sentenceEmbedding(enc.inputEmbeddingTensor(ids), keyPadding: mask) }
        XCTAssertEqual(emb.shape, [3, 384])
        for (b, t) in texts.enumerated() {
            let ref = enc.embed(t)
            let got = Array(emb.array[(b * 384)..<((b + 1) * 384)])
            XCTAssertLessThan(zip(ref, got).map { abs($0 - $1) }.max()!, 2e-5, t)
        }
    }

    func testAutogradInputGradientMatchesHandWrittenVJP() throws {
        let enc = try MiniLMTests.encoder()
        let ids = enc.tokenize("a photo of a dog on the beach")
        let T = ids.count
        var rng = SeededRNG(seed: 21)
        let target = (0..<384).map { _ in rng.normal() }
        let x = enc.inputEmbeddings(ids)
        let (_, handGrad) = enc.sentenceEmbeddingGradient(inputEmbeddings: x, count: T, embeddingGradient: target)
        let xt = Tensor(x, shape: [1, T, 384]).requiringGrad()
        let loss = (enc.sentenceEmbedding(xt) * Tensor(target, shape: [1, 384])).sum()
        loss.backward()
        let autoGrad = try XCTUnwrap(xt.grad).array
        let scale = handGrad.map(abs).max()!
        XCTAssertGreaterThan(scale, 0)
        XCTAssertLessThan(zip(handGrad, autoGrad).map { abs($0 - $1) }.max()!, 1e-3 * scale)
        XCTAssertGreaterThan(TestSupport.cosine(handGrad, autoGrad), 0.9999)
    }
}
