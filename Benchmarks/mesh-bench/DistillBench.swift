import ComputeCore
import Distill
import FlowGen
import Foundation
import VTP

/// `mesh-bench distill`: what a few-step student buys. Milliseconds per image (batch 1, in
/// process, from noise to decoded RGB pixels, prompt features precomputed) of the 28-step
/// teacher with guidance 3 (Euler, two rows per forward) against the sCM student at 1, 2 and 4
/// steps and the MeanFlow student at 4; median of `--repetitions` after `--warmup` runs, with
/// min and max. Models: the checkpoints given (`--teacher`, `--tokenizer`, `--scm`,
/// `--meanflow`), else untrained ones of the standard shapes (`flowgen-s` on the
/// `vtp-fmnistc32-s` tokenizer; time does not depend on the weights).
/// Last stdout line: one JSON object (`student2_img_ms`, `student2_speedup`, ...).
enum DistillBench {
    struct Options {
        var repetitions = 9, warmup = 2, threads = 2
        var teacher: String?, tokenizer: String?, scm: String?, meanflow: String?
    }

    static func parse(_ args: [String]) throws -> Options {
        var o = Options(), i = 0
        func value() throws -> String {
            guard i + 1 < args.count else { throw ValidationFailureBench("\(args[i]) needs a value") }
            i += 1; return args[i]
        }
        func count(_ range: ClosedRange<Int>) throws -> Int {
            let name = args[i], s = try value()
            guard let v = Int(s), range.contains(v) else { throw ValidationFailureBench("\(name) must be in \(range), got \(s)") }
            return v
        }
        while i < args.count {
            switch args[i] {
            case "--repetitions": o.repetitions = try count(3...1000)
            case "--warmup": o.warmup = try count(1...100)
            case "--threads": o.threads = try count(1...64)
            case "--teacher": o.teacher = try value()
            case "--tokenizer": o.tokenizer = try value()
            case "--scm": o.scm = try value()
            case "--meanflow": o.meanflow = try value()
            default:
                throw ValidationFailureBench("unknown argument '\(args[i])' (expected --repetitions/--warmup/--threads/--teacher/--tokenizer/--scm/--meanflow)")
            }
            i += 1
        }
        return o
    }

    /// Median, min and max wall time (ms) of `body` after `warmup` untimed runs.
    static func time(warmup: Int, repetitions: Int, _ body: () throws -> Void) rethrows -> (median: Double, min: Double, max: Double) {
        for _ in 0..<warmup { try body() }
        var ms: [Double] = []
        for _ in 0..<repetitions {
            let t0 = ComputeBench.now()
            try body()
            ms.append((ComputeBench.now() - t0) * 1000)
        }
        return (ComputeBench.median(ms), ms.min()!, ms.max()!)
    }

    static func run(arguments: [String]) throws {
        let o = try parse(arguments)
        Threads.configure(o.threads)
        let tok: VTPTokenizer
        if let path = o.tokenizer { tok = try VTPTokenizer(checkpointPath: path) } else {
            let c = try VTPPresets.resolve("vtp-fmnistc32-s")
            tok = VTPTokenizer(model: VTPModel(c.model, seed: 0), config: c)
        }
        let teacher: FlowGenModel
        if let path = o.teacher { teacher = try FlowGenCheckpoint.load(from: path) } else {
            let c = try FlowGenPresets.resolve("flowgen-s", grid: tok.config.model.grid, channels: tok.config.model.latentChannels)
            let m = FlowGenDiT(c.model, seed: 0)
            m.setFrozen(true)
            teacher = FlowGenModel(model: m, normalizer: .identity(channels: c.model.latentChannels), config: c, step: 0, metadata: [:])
        }
        func student(_ path: String?, _ method: DistillMethod) throws -> DistilledModel {
            if let path { return try DistillCheckpoint.load(from: path) }
            let c = try DistillPresets.resolve("distill-s", method: method)
            let s = try DistillStudent.from(teacher: teacher.model, config: c)
            s.setFrozen(true)
            return DistilledModel(student: s, normalizer: teacher.normalizer, config: c, step: 0, metadata: [:])
        }
        let scm = try student(o.scm, .scm), meanflow = try student(o.meanflow, .meanflow)
        let mc = teacher.model.config
        var rng = RNG(seed: 7)
        let prompt = TextFeatures(values: rng.normal([8 * mc.textDim]).array, length: 8, dim: mc.textDim)
        let source = o.teacher == nil ? "untrained flowgen-s on vtp-fmnistc32-s shapes" : "checkpoints"
        print("mesh-bench distill: \(source), \(mc.grid)x\(mc.grid)x\(mc.latentChannels) latents, width \(mc.width), depth \(mc.depth); " +
              "threads=\(o.threads), median of \(o.repetitions) after \(o.warmup) warm-up, batch 1, decode included")

        func decode(_ latents: Tensor) throws { _ = try tok.decode(latents) }
        var rows: [(String, (median: Double, min: Double, max: Double))] = []
        let t = try time(warmup: o.warmup, repetitions: o.repetitions) {
            let s = try teacher.sampler(SampleRequest(prompts: [prompt], seeds: [1], steps: 28, guidance: 3, sampler: .euler))
            s.run()
            try decode(s.latents)
        }
        rows.append(("teacher28", t))
        for (name, model, steps) in [("student1", scm, 1), ("student2", scm, 2), ("student4", scm, 4), ("meanflow4", meanflow, 4)] {
            rows.append((name, try time(warmup: o.warmup, repetitions: o.repetitions) {
                let s = try model.sampler(prompts: [prompt], seeds: [1], steps: steps)
                s.run()
                try decode(s.latents)
            }))
        }
        let dec = try time(warmup: o.warmup, repetitions: o.repetitions) {
            try decode(Tensor(zeros: [1, mc.tokens, mc.latentChannels]))
        }
        var json: [(String, String)] = []
        for (name, r) in rows {
            let speedup = t.median / r.median
            print("\(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(format1: r.median)) ms/image " +
                  "(min \(String(format1: r.min)), max \(String(format1: r.max))), \(String(format1: 1000 / r.median)) images/s, " +
                  "speedup x\(String(format1: speedup))")
            json += [("\(name)_img_ms", String(format1: r.median)), ("\(name)_img_ms_min", String(format1: r.min)),
                     ("\(name)_img_ms_max", String(format1: r.max))]
            if name != "teacher28" { json.append(("\(name)_speedup", String(format1: speedup))) }
        }
        print("decode alone: \(String(format1: dec.median)) ms (min \(String(format1: dec.min)), max \(String(format1: dec.max)))")
        let s2 = rows.first { $0.0 == "student2" }!.1.median
        json += [("decode_img_ms", String(format1: dec.median)), ("student2_target_ms", "50"),
                 ("student2_meets_target", s2 <= 50 ? "true" : "false"), ("repetitions", String(o.repetitions)),
                 ("warmup", String(o.warmup)), ("threads", String(o.threads)), ("models", "\"\(source)\"")]
        print("{" + json.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }
}
