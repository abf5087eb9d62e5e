import ComputeCore
import Models
import XCTest

/// The appended-vocabulary hook in MiniLM: `<name>` spans become one new id whose input embedding
/// is supplied by the caller.
final class ExtraTokenTests: XCTestCase {
    func testNamesAreFoundAndTokenisedAsOneId() throws {
        let enc = try DTITestSupport.encoder()
        XCTAssertEqual(MiniLMEncoder.extraTokenNames(in: "a red <my-bag> next to <b_2>, not < x>"), ["<my-bag>", "<b_2>"])
        let ids = enc.tokenize("a red <my-bag>!", extraTokens: ["<my-bag>"])
        let V = Int32(enc.vocabularySize)
        XCTAssertEqual(ids, enc.tokenize("a red") .dropLast() + [V, enc.tokenize("!")[1], enc.tokenizer.sepID])
        // A name not in the list stays plain text.
        XCTAssertEqual(enc.tokenize("a <other>", extraTokens: ["<my-bag>"]), enc.tokenize("a <other>"))
    }

    func testAppendedTokenWithClassRowEqualsTheClassWord() throws {
        let enc = try DTITestSupport.encoder()
        let bag = enc.inputEmbeddings([enc.tokenizer.ids["bag"]!])
        let (f, n) = enc.tokenFeatures("a photo of a <c>", extraTokens: ["<c>"], extra: bag)
        let ref = enc.tokenFeatures(ids: enc.tokenize("a photo of a bag"))
        XCTAssertEqual(n, enc.tokenize("a photo of a bag").count)
        XCTAssertLessThan(zip(f, ref).map { abs($0 - $1) }.max()!, 1e-5)
        // The differentiable path agrees and sends gradient to the extra row.
        let (ids, mask) = enc.paddedBatch(["a photo of a <c>", "<c>"], extraTokens: ["<c>"])
        let e = Tensor(bag, shape: [1, 384]).requiringGrad()
        let feats = enc.tokenFeatures(enc.inputEmbeddingTensor(ids, extra: e), keyPadding: mask)
        XCTAssertLessThan(zip(Array(feats.array[0..<(n * 384)]), ref).map { abs($0 - $1) }.max()!, 1e-4)
        (feats * mask.reshaped([2, ids[0].count, 1])).sum().backward()
        XCTAssertGreaterThan(DTITestSupport.norm(try XCTUnwrap(e.grad).array), 0)
    }
}
