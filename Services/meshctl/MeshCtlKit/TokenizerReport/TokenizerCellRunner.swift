import Datasets
import Evaluation
import FlowGen
import Foundation
import MeshKit
import MeshProto
import RecTok
import VTP

/// One tokenizer of a tokenizer report, measured through generation (shared by `meshctl report
/// tokenizer` and `meshctl report rectok`): trains the tokenizer through the mesh (or reuses the
/// registered one), scores it with `TokenizerEvaluator` (cached by checkpoint hash), reads its
/// run's history, reconstructs eight validation images, then trains the same generator recipe
/// on its latents for every seed and measures each (`GeneratorReport.measure`, cached).
final class TokenizerCellRunner {
    /// `TokenizerEvaluator` counts: reconstruction / held-out text images and probe train / tune / scored.
    struct TokenizerEval {
        var images: Int
        var probeSplit: [Int]
        /// `quick` (small FD resolution and bootstraps, for tests) or `standard`.
        var evaluator: String
    }

    /// What `run` measured: the cell, and the reconstructions of `originals`.
    struct Measured {
        var cell: TokenizerCell
        var reconstruction: [ImageBuffer]
    }

    let session: MeshSession
    let registry: ModelRegistry
    let cacheDir: URL
    let eval: TokenizerEval
    let generator: ReportGeneratorRecipe
    /// Name prefix of the generators (`ReportModelNames`), their training images (0 = all) and the evaluation's sampling seed.
    let prefix: String
    let generatorTrainLimit: Int
    let evalSeed: UInt64
    let log: (String) -> Void
    /// The generator preset's resolved recipe at a nominal latent shape (the real shape follows
    /// from the tokenizer, whose name is in the generator's).
    let generatorConfig: String
    /// Validation data of the first tokenizer (all cells of a runner share data and image size: one
    /// runner per dataset), and MiniLM (loaded once per runner, only when a tokenizer is scored).
    private(set) var data: VTPData?
    private var text: TextEmbeddingCache?
    /// Eight validation images, the top row of every reconstruction grid.
    private(set) var originals: [ImageBuffer] = []

    init(session: MeshSession, eval: TokenizerEval, generator: ReportGeneratorRecipe, prefix: String, generatorTrainLimit: Int,
         evalSeed: UInt64, log: @escaping (String) -> Void) throws {
        self.session = session; self.eval = eval; self.generator = generator; self.log = log
        self.prefix = prefix; self.generatorTrainLimit = generatorTrainLimit; self.evalSeed = evalSeed
        registry = ModelRegistry(artifacts: session.artifacts)
        cacheDir = session.home.appendingPathComponent("report-measurements")
        try FileManager.default.createDirectory(at: cacheDir, withIntermediateDirectories: true)
        generatorConfig = try FlowGenPresets.resolve(generator.preset, grid: 1, channels: 1).json()
    }

    /// Trains (unless registered) the tokenizer `request.checkpointName` and a generator per seed on it; measures all.
    func run(_ request: Latentmesh_V1_TokenizerTrainRequest, describe: String, seeds: [UInt64]) async throws -> Measured {
        let name = request.checkpointName
        if try !registry.exists(name) {
            log("training tokenizer \(describe)")
            _ = try await session.callFollowing("tokenizer.train", request, as: Latentmesh_V1_TokenizerTrainResult.self)
        }
        let record = try registry.record(name, field: "tokenizer")
        let seconds = try record.runID.flatMap { try session.store.run(id: $0)?.durationMs }.map { $0 / 1000 } ?? .nan
        let tok = try LatentTokenizers.load(checkpointPath: try registry.file(record, field: "tokenizer").path)
        if data == nil {
            let d = try VTPData(tokenizer: tok)
            data = d
            originals = try d.images(Array(d.validation.prefix(8)), size: tok.imageSize)
        }
        let metrics = try tokenizerMetrics(tok, sha256: record.sha256, name: name)
        let reconstruction = try tok.decode(try tok.encode(originals))
        let history = try record.runID.map { try TrainingHistory.read(runID: $0, store: session.store) }
        var generations: [GeneratorReport.Measurement] = []
        for seed in seeds {
            let genName = ReportModelNames.generator(prefix, preset: generator.preset, steps: generator.steps,
                                                     trainLimit: generatorTrainLimit, seed: seed, tokenizer: name, config: generatorConfig)
            if try !registry.exists(genName) {
                log("training generator on \(name) (seed \(seed))")
                var g = Latentmesh_V1_GeneratorTrainRequest()
                g.preset = generator.preset; g.tokenizerCheckpoint = name; g.steps = Int64(generator.steps)
                g.seed = seed; g.modelName = genName; g.trainLimit = Int64(generatorTrainLimit)
                _ = try await session.callFollowing("generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self)
            }
            generations.append(try await GeneratorReport.measure(genName, step: generator.steps, images: generator.evalImages,
                                                                 steps: generator.evalSteps, guidance: generator.guidance, sampler: "euler",
                                                                 evaluator: generator.evaluator, seed: evalSeed, session: session,
                                                                 cacheDir: cacheDir, log: log))
        }
        return Measured(cell: TokenizerCell(tokenizer: name, tokenizerSeconds: seconds, tokenizerMetrics: metrics, generations: generations,
                                            history: history),
                        reconstruction: reconstruction)
    }

    /// `TokenizerEvaluator` on a tokenizer, cached by its checkpoint hash and the evaluation counts.
    func tokenizerMetrics(_ tok: any LatentTokenizer, sha256: String, name: String) throws -> TokenizerMetrics {
        let key = EvaluationCache.key("tokenizer-metrics", [sha256, String(eval.images)] + eval.probeSplit.map(String.init))
        let file = cacheDir.appendingPathComponent(key + ".json")
        if let d = try? Data(contentsOf: file), let m = try? JSONDecoder().decode(TokenizerMetrics.self, from: d) { return m }
        log("evaluating tokenizer \(name)")
        var ev = TokenizerEvaluator()
        ev.reconstructionImages = eval.images; ev.heldOutTextImages = eval.images
        ev.probeTrain = eval.probeSplit[0]; ev.probeTune = eval.probeSplit[1]; ev.probeScored = eval.probeSplit[2]
        if eval.evaluator == "quick" { ev.fdResolution = 32; ev.fdBootstrap = 2; ev.bootstrap = 50 }
        if text == nil { text = try TextEmbeddingCache.miniLM() }
        let m = try ev.evaluate(tok, data: data!, text: text!)
        try JSONEncoder().encode(m).write(to: file)
        log(String(format: "  rFD %.1f, probe grid %.3f, probe CLS %.3f", m.rFD.value, m.probeGrid.value, m.probeCLS?.value ?? .nan))
        return m
    }

    /// Writes a reconstruction grid: `originals` on top, then one row per reconstruction.
    func writeReconstructionGrid(_ rows: [[ImageBuffer]], to url: URL) throws {
        try PNGCodec.write(try ImageGrid.make((originals + rows.flatMap { $0 }), columns: 8), to: url.path)
    }
}
