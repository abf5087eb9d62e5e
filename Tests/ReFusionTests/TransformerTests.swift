import XCTest
import ComputeCore
@testable import ReFusion

final class TransformerTests: XCTestCase {
    func tinyModel(seed: UInt64 = 3) -> TransformerLM {
        let m = TransformerLM(TransformerConfig.preset("tiny")!, seed: seed)
        // sharpen the random head so greedy choices are not ties
        m.head.weight.assign(m.head.weight * 40)
        return m
    }

    func testCachedForwardEqualsFullForward() {
        let m = tinyModel()
        let tokens = [1, 20, 31, 44, 52, 3, 3, 60], positions = [0, 1, 2, 6, 7, 3, 4, 5]
        let full = m.forward(tokens: tokens, positions: positions, cache: m.makeCache())
        let cache = m.makeCache()
        let a = m.forward(tokens: Array(tokens[..<3]), positions: Array(positions[..<3]), cache: cache)
        let b = m.forward(tokens: Array(tokens[3...]), positions: Array(positions[3...]), cache: cache)
        XCTAssertEqual(cache.count, 8)
        let inc = a.values + b.values
        for (x, y) in zip(full.values, inc) { XCTAssertEqual(x, y, accuracy: 1e-3) }
        // the training path (tape-free) gives the same logits
        let batch = m.logits(tokens: tokens, positions: positions, batch: 1)
        for (x, y) in zip(full.values, batch.array) { XCTAssertEqual(x, y, accuracy: 1e-3) }
        // truncation drops keys/values: recomputing the tail after truncation matches
        cache.truncate(to: 3)
        let b2 = m.forward(tokens: Array(tokens[3...]), positions: Array(positions[3...]), cache: cache)
        for (x, y) in zip(b.values, b2.values) { XCTAssertEqual(x, y, accuracy: 1e-4) }
    }

    func testPositionIdsMatter() {
        let m = tinyModel()
        let a = m.forward(tokens: [1, 20, 31], positions: [0, 1, 2], cache: m.makeCache())
        let b = m.forward(tokens: [1, 20, 31], positions: [0, 1, 9], cache: m.makeCache())
        XCTAssertNotEqual(Array(a.row(2)), Array(b.row(2)))
        XCTAssertEqual(Array(a.row(1)), Array(b.row(1)))
    }

    func testKVCacheDecodingEqualsRecomputationWithTransformer() {
        let m = tinyModel(seed: 5)
        let r = RecomputingModel(m)
        let prompt = [CharVocabulary.bos, 40, 41, 42]
        let ar1 = ARDecoder.decode(model: m, prompt: prompt, maxTokens: 20)
        let ar2 = ARDecoder.decode(model: r, prompt: prompt, maxTokens: 20)
        XCTAssertEqual(ar1, ar2)
        for (ts, tt) in [(Float(0.2), Float(0.2)), (0.9, 0.9)] {
            let p = DecodeParameters(maxTokens: 20, slotSize: 2, blockSize: 8, slotThreshold: ts, tokenThreshold: tt)
            var d1 = ReFusionDecoder(model: m, parameters: p), d2 = ReFusionDecoder(model: r, parameters: p)
            XCTAssertEqual(d1.decode(prompt: prompt), d2.decode(prompt: prompt))
        }
    }

    func testCheckpointRoundTripAndCopy() throws {
        let m = tinyModel()
        let path = NSTemporaryDirectory() + "refusion-ckpt-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try m.save(to: path)
        let l = try TransformerLM.load(from: path)
        XCTAssertEqual(l.config, m.config)
        let a = m.forward(tokens: [1, 5, 6], positions: [0, 1, 2], cache: m.makeCache())
        let b = l.forward(tokens: [1, 5, 6], positions: [0, 1, 2], cache: l.makeCache())
        XCTAssertEqual(a.values, b.values)
        let bi = m.copy(causal: false)
        XCTAssertFalse(bi.config.causal)
        XCTAssertEqual(bi.head.weight.array, m.head.weight.array)
    }

    func testTrainingReducesLossForEveryObjective() throws {
        let data = DecodeDataset(arithmetic: ArithmeticTask(maxDigits: 2, seed: 1),
                                 arithmeticTrain: ArithmeticTask(maxDigits: 2, seed: 1).trainingExamples(count: 64, seed: 2),
                                 arithmeticTest: [], textTrain: [], textTest: [])
        let config = TransformerConfig.preset("tiny")!
        var ar: TransformerLM?
        for mode in [DecodeMode.ar, .mdm, .refusion] {
            let t = DecodeTrainer(config: config, setup: TrainingSetup(objective: mode, steps: 30, batchSize: 8,
                                                                       learningRate: 3e-3, warmupSteps: 3, seed: 4),
                                  data: data, initial: mode == .refusion ? ar : nil)
            let first = (0..<3).map { _ in t.trainStep() }.reduce(0, +) / 3
            for _ in 0..<24 { t.trainStep() }
            let last = (0..<3).map { _ in t.trainStep() }.reduce(0, +) / 3
            XCTAssertLessThan(last, first, "\(mode) loss should fall: \(first) -> \(last)")
            XCTAssertEqual(t.model.config.causal, mode != .mdm)
            if mode == .ar { ar = t.model }
        }
    }
}
