import Datasets
import Evaluation
import Foundation
import GeneratorSvc
import MeshKit
import MeshProto
import RunStore

/// `meshctl report generator`: trains a tokenizer and a generator on fmnist-color through the
/// mesh (the same `tokenizer.train` / `generator.train` runs a user starts), then measures it
/// with `generator.evaluate` — headline (guidance 3), guidance sweep, steps sweep per sampler,
/// gFD at the training checkpoints — and writes docs/results/generator.md with figures.
/// Models and measurements are kept in the session's home, so an interrupted report resumes.
public enum GeneratorReport {
    /// One `generator.evaluate` outcome.
    public struct Measurement: Codable, Sendable {
        public var model: String
        public var trainingStep: Int
        public var images: Int
        public var steps: Int
        public var guidance: Float
        public var sampler: String
        public var metrics: [String: Double]
        public var referenceImages: Int
        public var fdResolution: Int
        public var seconds: Double
        public var runID: String

        public var gFD: Estimate { est("gfd", std: metrics["gfd_std"] ?? 0) }
        public var classAccuracy: Estimate { est("class_accuracy") }
        public var colorAccuracy: Estimate { est("color_accuracy") }
        /// The `real_*` / `recon_*` anchor (`prefix`) of this measurement, if `generator.evaluate` reported it.
        public func anchor(_ prefix: String) -> (gFD: Estimate, classAccuracy: Estimate, colorAccuracy: Estimate)? {
            guard metrics[prefix + "gfd"] != nil else { return nil }
            return (est(prefix + "gfd", std: metrics[prefix + "gfd_std"] ?? 0), est(prefix + "class_accuracy"), est(prefix + "color_accuracy"))
        }

        func est(_ k: String, std: Double = 0) -> Estimate {
            Estimate(value: metrics[k] ?? .nan, low: metrics[k + "_low"] ?? .nan, high: metrics[k + "_high"] ?? .nan, std: std, replicates: 0)
        }
    }

    /// Everything the markdown is rendered from.
    public struct Outcome: Codable, Sendable {
        public var plan: GeneratorReportPlan
        public var provenance: [String: String]
        public var tokenizer: String
        public var generator: String
        public var trainRunID: String
        public var trainSeconds: Double
        /// The tokenizer's training run (nil when its record names none).
        public var tokenizerTrainSeconds: Double?
        /// (step, loss) from the training run's recorded progress.
        public var lossCurve: [[Double]]
        public var headline: Measurement
        public var guidance: [Measurement]
        public var steps: [String: [Measurement]]
        public var checkpoints: [Measurement]
        public var classifierTestAccuracy: Double
        public var wallSeconds: Double
        public var figures: [String]
    }

    /// Runs `plan` on `session`; figures go to `outputDir/generator/`, the markdown to `outputDir/generator.md`.
    public static func run(plan: GeneratorReportPlan, session: MeshSession, outputDir: URL,
                           log: @escaping (String) -> Void) async throws -> Outcome {
        let t0 = Date()
        // Read before anything is written: the report's own outputs must not mark the tree dirty.
        let provenance = ReportProvenance.current().dictionary
        let registry = ModelRegistry(artifacts: session.artifacts)
        let tag = "report-\(plan.name)"
        let tokName = ReportModelNames.tokenizer("\(tag)-tokenizer", preset: plan.tokenizerPreset, steps: plan.tokenizerSteps, seed: plan.seed)
        let genName = ReportModelNames.generator("\(tag)-generator", preset: plan.generatorPreset, steps: plan.generatorSteps,
                                                 trainLimit: plan.trainLimit, seed: plan.seed, tokenizer: tokName)
        // 1. Tokenizer and generator (trained once per recipe; reused while registered in this home).
        if try !registry.exists(tokName) {
            log("training tokenizer \(plan.tokenizerPreset) (\(plan.tokenizerSteps) steps)")
            var t = Latentmesh_V1_TokenizerTrainRequest()
            t.preset = plan.tokenizerPreset; t.steps = Int64(plan.tokenizerSteps); t.seed = plan.seed; t.checkpointName = tokName
            _ = try await session.callFollowing("tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self)
        }
        let trainStart = Date()
        if try !registry.exists(genName) {
            log("training generator \(plan.generatorPreset) (\(plan.generatorSteps) steps)")
            var g = Latentmesh_V1_GeneratorTrainRequest()
            g.preset = plan.generatorPreset; g.tokenizerCheckpoint = tokName; g.steps = Int64(plan.generatorSteps)
            g.seed = plan.seed; g.modelName = genName; g.trainLimit = Int64(plan.trainLimit)
            _ = try await session.callFollowing("generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self)
        }
        let genRecord = try registry.record(genName, field: "generator")
        guard let trainRun = genRecord.runID, let run = try session.store.run(id: trainRun) else {
            throw ValidationFailure("generator \(genName) has no recorded training run")
        }
        let trainSeconds = (run.durationMs ?? Date().timeIntervalSince(trainStart) * 1000) / 1000
        let tokenizerTrainSeconds = try registry.record(tokName, field: "tokenizer").runID
            .flatMap { try session.store.run(id: $0)?.durationMs }.map { $0 / 1000 }
        let events = try session.store.events(runID: trainRun, limit: 100_000)
        let lossCurve: [[Double]] = events.filter { $0.type == "progress" }.compactMap { e in
            guard let o = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any],
                  let step = (o["step"] as? NSNumber)?.doubleValue, let m = o["metrics"] as? [String: Any],
                  let loss = (m["loss"] as? NSNumber)?.doubleValue else { return nil }
            return [step, loss]
        }
        // Intermediate checkpoints of the run, registered so generator.evaluate can load them.
        var checkpointModels: [(step: Int, name: String)] = []
        for e in events where e.type == "checkpoint" {
            guard let o = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any],
                  let sha = o["sha256"] as? String, let step = (o["step"] as? NSNumber)?.intValue,
                  step < plan.generatorSteps, plan.curveEvery <= 0 || step % plan.curveEvery == 0 else { continue }
            let name = "\(genName)-step\(step)"
            if try !registry.exists(name), let art = try session.store.artifact(sha256: sha) {
                try registry.register(name: name, artifact: art, kind: GeneratorService.modelKind, service: "generator",
                                      configJSON: genRecord.configJSON, parents: [tokName], runID: trainRun)
            }
            checkpointModels.append((step, name))
        }
        // 2. Measurements (each cached by its parameters in the home).
        let cacheDir = session.home.appendingPathComponent("report-measurements")
        try FileManager.default.createDirectory(at: cacheDir, withIntermediateDirectories: true)
        func measure(_ model: String, step: Int, images: Int, steps: Int, guidance: Float, sampler: String) async throws -> Measurement {
            try await Self.measure(model, step: step, images: images, steps: steps, guidance: guidance, sampler: sampler,
                                   evaluator: plan.evaluator, seed: plan.seed, session: session, cacheDir: cacheDir, log: log)
        }
        let final = plan.generatorSteps
        let headline = try await measure(genName, step: final, images: plan.headlineImages, steps: plan.headlineSteps,
                                         guidance: plan.headlineGuidance, sampler: "euler")
        var guidance: [Measurement] = []
        for g in plan.guidanceSweep {
            guidance.append(try await measure(genName, step: final, images: plan.sweepImages, steps: plan.headlineSteps, guidance: g, sampler: "euler"))
        }
        var stepsSweep: [String: [Measurement]] = [:]
        for s in plan.samplers {
            for n in plan.stepsSweep {
                stepsSweep[s, default: []].append(try await measure(genName, step: final, images: plan.sweepImages, steps: n,
                                                                    guidance: plan.headlineGuidance, sampler: s))
            }
        }
        var checkpoints: [Measurement] = []
        for c in checkpointModels {
            checkpoints.append(try await measure(c.name, step: c.step, images: plan.sweepImages, steps: plan.headlineSteps,
                                                 guidance: plan.headlineGuidance, sampler: "euler"))
        }
        if let last = guidance.first(where: { $0.guidance == plan.headlineGuidance }) { checkpoints.append(last) }
        // 3. Sample grids and figures.
        let figDir = outputDir.appendingPathComponent("generator")
        try FileManager.default.createDirectory(at: figDir, withIntermediateDirectories: true)
        var figures = try await sampleGrids(plan: plan, model: genName, session: session, figDir: figDir)
        let outcome0 = Outcome(plan: plan, provenance: provenance, tokenizer: tokName, generator: genName,
                               trainRunID: trainRun, trainSeconds: trainSeconds, tokenizerTrainSeconds: tokenizerTrainSeconds, lossCurve: lossCurve, headline: headline,
                               guidance: guidance, steps: stepsSweep, checkpoints: checkpoints,
                               classifierTestAccuracy: headline.metrics["classifier_test_accuracy"] ?? .nan,
                               wallSeconds: 0, figures: [])
        figures += try GeneratorReportRenderer.writeFigures(outcome0, figDir: figDir)
        var outcome = outcome0
        outcome.figures = figures
        outcome.wallSeconds = Date().timeIntervalSince(t0)
        let md = GeneratorReportRenderer.markdown(outcome)
        try md.write(to: outputDir.appendingPathComponent("generator.md"), atomically: true, encoding: .utf8)
        try JSONEncoder().encode(outcome).write(to: figDir.appendingPathComponent("outcome.json"))
        return outcome
    }

    /// One `generator.evaluate` of `model` (a registered generator), cached in `cacheDir` by the
    /// checkpoint's hash and every setting, so a rerun or an interrupted report reuses it.
    static func measure(_ model: String, step: Int, images: Int, steps: Int, guidance: Float, sampler: String, evaluator: String,
                        seed: UInt64, session: MeshSession, cacheDir: URL, log: @escaping (String) -> Void) async throws -> Measurement {
        let sha = try ModelRegistry(artifacts: session.artifacts).record(model, field: "model").sha256
        let key = EvaluationCache.key("measure", [sha, String(images), String(steps), String(guidance), sampler, evaluator, String(seed)])
        let file = cacheDir.appendingPathComponent(key + ".json")
        if let d = try? Data(contentsOf: file), let m = try? JSONDecoder().decode(Measurement.self, from: d) { return m }
        log("evaluating \(model): \(images) images, \(steps) \(sampler) steps, guidance \(guidance)")
        var r = Latentmesh_V1_GeneratorEvaluateRequest()
        r.modelName = model; r.images = Int32(images); r.steps = Int32(steps); r.guidance = guidance; r.sampler = sampler
        r.seed = seed; r.evaluator = evaluator
        let a = try await session.callFollowing("generator.evaluate", r, as: Latentmesh_V1_GeneratorEvaluateResult.self)
        let m = Measurement(model: model, trainingStep: step, images: images, steps: steps, guidance: guidance, sampler: sampler,
                            metrics: a.response.metrics, referenceImages: Int(a.response.referenceImages),
                            fdResolution: Int(a.response.fdResolution), seconds: a.response.seconds, runID: a.reply.runID)
        try FileManager.default.createDirectory(at: cacheDir, withIntermediateDirectories: true)
        try JSONEncoder().encode(m).write(to: file)
        log(String(format: "  gFD %.2f (std %.2f), class %.3f, colour %.3f", m.gFD.value, m.gFD.std, m.classAccuracy.value, m.colorAccuracy.value))
        return m
    }

    /// Eight prompts x 4 samples at the headline setting, and one row per guidance value.
    static func sampleGrids(plan: GeneratorReportPlan, model: String, session: MeshSession, figDir: URL) async throws -> [String] {
        func generate(_ prompts: [String], n: Int32, guidance: Float) async throws -> [Latentmesh_V1_GeneratedImage] {
            var r = Latentmesh_V1_GenerateRequest()
            r.modelName = model; r.prompts = prompts; r.n = n; r.steps = Int32(plan.headlineSteps); r.guidance = guidance
            r.seed = plan.seed; r.sampler = "euler"
            return try await session.callFollowing("generator.generate", r, as: Latentmesh_V1_GenerateResponse.self).response.images
        }
        let prompts = GeneratorService.previewPrompts
        let a = try await generate(prompts, n: 4, guidance: plan.headlineGuidance)
        let grid = try ImageGrid.make(try a.map { try PNGCodec.decode([UInt8]($0.png)) }, columns: 4, cellSize: 64,
                                      captions: a.map { "\($0.prompt) #\($0.sample)" })
        try PNGCodec.write(grid, to: figDir.appendingPathComponent("samples.png").path)
        var cells: [ImageBuffer] = [], caps: [String] = []
        for p in prompts.prefix(4) {
            for g in plan.guidanceSweep {
                let img = try await generate([p], n: 1, guidance: g)[0]
                cells.append(try PNGCodec.decode([UInt8](img.png)))
                caps.append("\(p) g=\(g)")
            }
        }
        try PNGCodec.write(try ImageGrid.make(cells, columns: plan.guidanceSweep.count, cellSize: 64, captions: caps),
                           to: figDir.appendingPathComponent("guidance-samples.png").path)
        return ["samples.png", "guidance-samples.png"]
    }
}
