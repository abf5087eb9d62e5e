import Models
import XCTest

final class TokenizerTests: XCTestCase {
    func testTokenIdsMatchReferenceTokenizer() throws {
        let fx = try TestSupport.fixture("minilm_fixture.json")
        let tok = try WordPieceTokenizer(vocabPath: try TestSupport.modelsDir() + "/all-MiniLM-L6-v2/vocab.txt")
        let maxLen = fx["max_length"] as! Int
        let cases = try XCTUnwrap(fx["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        for c in cases {
            let text = c["text"] as! String
            let expected = (c["ids"] as! [NSNumber]).map { $0.int32Value }
            XCTAssertEqual(tok.encode(text, maxLength: maxLen), expected, "ids for \(text.prefix(60))")
        }
    }

    func testWordPiecesUnknownAndTruncation() throws {
        let tok = try WordPieceTokenizer(vocabPath: try TestSupport.modelsDir() + "/all-MiniLM-L6-v2/vocab.txt")
        let ids = tok.encode("Crème BRÛLÉE unaffable!")
        let toks = tok.tokens(ids)
        XCTAssertEqual(toks.first, "[CLS]")
        XCTAssertEqual(toks.last, "[SEP]")
        // Lowercased, accents stripped, split into pieces.
        XCTAssertEqual(Array(toks[1...5]), ["cr", "##eme", "br", "##ule", "##e"], "\(toks)")
        XCTAssertEqual(toks[toks.count - 2], "!")
        XCTAssertEqual(tok.tokens(tok.encode(String(repeating: "z", count: 150))), ["[CLS]", "[UNK]", "[SEP]"])
        XCTAssertEqual(tok.encode(String(repeating: "word ", count: 100), maxLength: 16).count, 16)
    }
}
