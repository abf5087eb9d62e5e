import ComputeCore
import Datasets
import Foundation
import VTP

/// `mesh-bench tokenizer [--steps N] [--repetitions N] [--preset NAME]`: VTP training throughput
/// (image-caption pairs per second for the `vtp` preset) and encode/decode latency p50 at batch
/// 1 and 64 (library calls, no messaging). Last stdout line: one JSON object.
enum TokenizerBench {
    struct Options { var steps = 10; var repetitions = 20; var preset = "vtp-fmnist32-s" }

    static func run(arguments: [String]) async throws {
        var o = Options()
        var i = 0
        func value(_ name: String) throws -> String {
            guard i + 1 < arguments.count else { throw MethodError.invalidInput(field: name, message: "needs a value") }
            i += 1
            return arguments[i]
        }
        func positive(_ name: String) throws -> Int {
            let s = try value(name)
            guard let v = Int(s), v > 0, v <= 100_000 else { throw MethodError.invalidInput(field: name, message: "must be in 1...100000, got \(s)") }
            return v
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--steps": o.steps = try positive("--steps")
            case "--repetitions": o.repetitions = try positive("--repetitions")
            case "--preset": o.preset = try value("--preset")
            default: throw MethodError.invalidInput(field: arguments[i], message: "unknown option; use --steps, --repetitions, --preset")
            }
            i += 1
        }
        var cfg = try VTPPresets.resolve(o.preset)
        cfg.train.steps = o.steps + 2
        let trainer = try VTPTrainer(config: cfg)
        for _ in 0..<2 { try trainer.step() }          // warm-up (buffer pool, text cache)
        let t0 = Date()
        for _ in 0..<o.steps { try trainer.step() }
        let trainSeconds = Date().timeIntervalSince(t0)
        let pairsPerSecond = Double(o.steps * cfg.train.batchSize) / trainSeconds
        log(String(format: "train %@: %d steps of %d pairs in %.2f s = %.1f pairs/s", o.preset, o.steps, cfg.train.batchSize,
                   trainSeconds, pairsPerSecond))

        let tok = VTPTokenizer(model: trainer.model, config: cfg)
        let images = try trainer.data.images(Array(trainer.data.validation.prefix(64)), size: cfg.model.imageSize)
        func p50(_ body: () throws -> Void) rethrows -> Double {
            try body()
            var ts: [Double] = []
            for _ in 0..<o.repetitions { let s = Date(); try body(); ts.append(Date().timeIntervalSince(s) * 1000) }
            return ts.sorted()[ts.count / 2]
        }
        let one = Array(images.prefix(1))
        let z1 = try tok.encode(one), z64 = try tok.encode(images)
        let e1 = try p50 { _ = try tok.encode(one) }
        let e64 = try p50 { _ = try tok.encode(images) }
        let d1 = try p50 { _ = try tok.decode(z1) }
        let d64 = try p50 { _ = try tok.decode(z64) }
        log(String(format: "encode p50 b1 %.2f ms, b64 %.2f ms; decode p50 b1 %.2f ms, b64 %.2f ms", e1, e64, d1, d64))
        let out: [String: Any] = ["area": "tokenizer", "preset": o.preset, "vtp_train_img_per_s": pairsPerSecond,
                                  "encode_b1_ms": e1, "decode_b1_ms": d1, "encode_b64_ms": e64, "decode_b64_ms": d64,
                                  "train_steps": o.steps, "batch": cfg.train.batchSize]
        print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
    }

    static func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}
