import Datasets
import Models
import XCTest

final class MiniLMTests: XCTestCase {
    static var shared: MiniLMEncoder?
    static func encoder() throws -> MiniLMEncoder {
        if let e = shared { return e }
        let e = try MiniLMEncoder(directory: try TestSupport.modelsDir() + "/all-MiniLM-L6-v2")
        shared = e
        return e
    }

    /// Sentence embeddings match the independent numpy reference (which matches sentence-transformers).
    func testEmbeddingsMatchNumpyReference() throws {
        let fx = try TestSupport.fixture("minilm_fixture.json")
        let enc = try Self.encoder()
        let cases = try XCTUnwrap(fx["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        for c in cases {
            let text = c["text"] as! String
            let ref = TestSupport.floats(c["embedding"])
            let got = enc.embed(text)
            XCTAssertEqual(got.count, 384)
            XCTAssertGreaterThanOrEqual(TestSupport.cosine(got, ref), 0.9999, "\(text.prefix(50))")
            let maxDiff = zip(got, ref).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(maxDiff, 1e-4, "\(text.prefix(50))")
            let feats = enc.tokenFeatures(ids: enc.tokenize(text))
            let refTok = TestSupport.floats(c["first_token_features"])
            for j in 0..<refTok.count { XCTAssertEqual(feats[384 + j], refTok[j], accuracy: 2e-4) }
        }
        // Semantics: related sentences are closer than unrelated ones.
        let dog = enc.embed("a photo of a dog"), puppy = enc.embed("a picture of a puppy"), tax = enc.embed("quarterly tax filing deadline")
        XCTAssertGreaterThan(TestSupport.cosine(dog, puppy), TestSupport.cosine(dog, tax) + 0.2)
    }

    /// The input-embedding gradient agrees with central finite differences of the forward pass.
    func testInputEmbeddingGradientMatchesFiniteDifferences() throws {
        let enc = try Self.encoder()
        let ids = enc.tokenize("a photo of a dog")
        let T = ids.count
        let x = enc.inputEmbeddings(ids)
        var rng = SeededRNG(seed: 11)
        let target = (0..<384).map { _ in Float.random(in: -1...1, using: &rng) }
        // L = <target, sentence embedding>
        let (emb, grad) = enc.sentenceEmbeddingGradient(inputEmbeddings: x, count: T, embeddingGradient: target)
        let plain = enc.embed(inputEmbeddings: x, count: T)
        XCTAssertLessThan(zip(emb, plain).map { abs($0 - $1) }.max()!, 1e-6)
        func loss(_ e: [Float]) -> Double { zip(e, target).reduce(0.0) { $0 + Double($1.0 * $1.1) } }
        // Directional derivative along a random direction restricted to token 4 ("dog").
        var dir = [Float](repeating: 0, count: T * 384)
        for d in 0..<384 { dir[4 * 384 + d] = Float.random(in: -1...1, using: &rng) }
        let h: Float = 1e-2
        let plus = zip(x, dir).map { $0 + h * $1 }, minus = zip(x, dir).map { $0 - h * $1 }
        let fd = (loss(enc.embed(inputEmbeddings: plus, count: T)) - loss(enc.embed(inputEmbeddings: minus, count: T))) / Double(2 * h)
        let analytic = zip(grad, dir).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(analytic, fd, accuracy: 0.03 * max(abs(fd), 1e-3), "analytic \(analytic) vs finite difference \(fd)")
        // Token-feature VJP: gradient of sum(features) equals the sentence path structure (non-zero, finite).
        let (_, g2) = enc.inputEmbeddingGradient(inputEmbeddings: x, count: T, featureGradient: [Float](repeating: 1, count: T * 384))
        XCTAssertTrue(g2.allSatisfy { $0.isFinite })
        XCTAssertGreaterThan(g2.map(abs).max()!, 0)
    }

    /// Packed batches (attention kept within each sentence) give the single-sentence embeddings.
    func testBatchedEmbeddingEqualsSingle() throws {
        let enc = try Self.encoder()
        let texts = ["a photo of a dog", "Crème brûlée!", "x", String(repeating: "long sentence ", count: 40)]
        let batched = enc.embed(texts, tokensPerBatch: 64)
        for (t, b) in zip(texts, batched) {
            XCTAssertLessThan(zip(enc.embed(t), b).map { abs($0 - $1) }.max()!, 1e-5, t)
        }
    }

    func testVocabularyTableAndMeanNorm() throws {
        let enc = try Self.encoder()
        XCTAssertEqual(enc.vocabularySize, 30522)
        XCTAssertEqual(enc.wordEmbeddings.count, 30522 * 384)
        let m = enc.meanVocabularyNorm()
        XCTAssertGreaterThan(m, 0.5)
        XCTAssertLessThan(m, 3)
    }
}
