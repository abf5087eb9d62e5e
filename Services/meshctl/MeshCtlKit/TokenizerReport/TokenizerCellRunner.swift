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
    /// Where finished measurements are kept across machines (nil: only the session's cache), and
    /// the provenance recorded with what this run measures.
    let ledger: ReportLedger?
    let provenance: [String: String]
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
         evalSeed: UInt64, ledger: ReportLedger?, provenance: [String: String], log: @escaping (String) -> Void) throws {
        self.ledger = ledger; self.provenance = provenance
        self.session = session; self.eval = eval; self.generator = generator; self.log = log
        self.prefix = prefix; self.generatorTrainLimit = generatorTrainLimit; self.evalSeed = evalSeed
        registry = ModelRegistry(artifacts: session.artifacts)
        cacheDir = session.home.appendingPathComponent("report-measurements")
        try FileManager.default.createDirectory(at: cacheDir, withIntermediateDirectories: true)
        generatorConfig = try FlowGenPresets.resolve(generator.preset, grid: 1, channels: 1).json()
    }

    /// Trains (unless registered) the tokenizer `request.checkpointName` and a generator per seed on it; measures all.
    /// What the ledger already holds (the tokenizer's measurements, a generator's) is read from it
    /// instead; what is measured here is stored in it.
    func run(_ request: Latentmesh_V1_TokenizerTrainRequest, describe: String, seeds: [UInt64]) async throws -> Measured {
        let name = request.checkpointName
        let part = try await tokenizerPart(request, describe: describe)
        if originals.isEmpty { originals = try part.value.originals.map(Self.image) }
        var measuredBy = [part.measuredBy]
        var generations: [GeneratorReport.Measurement] = []
        for seed in seeds {
            let genName = ReportModelNames.generator(prefix, preset: generator.preset, steps: generator.steps,
                                                     trainLimit: generatorTrainLimit, seed: seed, tokenizer: name, config: generatorConfig)
            let key = Self.ledgerKey(genName, [String(generator.evalImages), String(generator.evalSteps), String(generator.guidance),
                                               "euler", generator.evaluator, String(evalSeed)])
            if let e = try ledger?.entry(key, as: GeneratorReport.Measurement.self) {
                log("generator on \(name) (seed \(seed)): from the ledger")
                generations.append(e.value); measuredBy.append(e.measuredBy)
                continue
            }
            if try !registry.exists(name) { try await trainTokenizer(request, describe: describe) }
            if try !registry.exists(genName) {
                log("training generator on \(name) (seed \(seed))")
                var g = Latentmesh_V1_GeneratorTrainRequest()
                g.preset = generator.preset; g.tokenizerCheckpoint = name; g.steps = Int64(generator.steps)
                g.seed = seed; g.modelName = genName; g.trainLimit = Int64(generatorTrainLimit)
                _ = try await session.callFollowing("generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self)
            }
            let m = try await GeneratorReport.measure(genName, step: generator.steps, images: generator.evalImages,
                                                      steps: generator.evalSteps, guidance: generator.guidance, sampler: "euler",
                                                      evaluator: generator.evaluator, seed: evalSeed, session: session,
                                                      cacheDir: cacheDir, log: log)
            try ledger?.store(m, key: key, provenance: provenance)
            generations.append(m); measuredBy.append(provenance)
        }
        let p = part.value
        let cell = TokenizerCell(tokenizer: name, tokenizerSeconds: p.seconds, tokenizerMetrics: p.metrics, generations: generations,
                                 history: p.history, measuredAt: ReportLedger.commits(measuredBy))
        return Measured(cell: cell, reconstruction: try p.reconstruction.map(Self.image))
    }

    /// What the report keeps of a tokenizer (everything but its generators); PNGs base64-encoded.
    struct TokenizerPart: Codable {
        var seconds: Double
        var metrics: TokenizerMetrics
        var history: TrainingHistory?
        var reconstruction: [String]
        var originals: [String]
    }

    /// The tokenizer's part from the ledger, or trained (unless registered) and measured now (then stored).
    func tokenizerPart(_ request: Latentmesh_V1_TokenizerTrainRequest, describe: String) async throws -> ReportLedger.Entry<TokenizerPart> {
        let name = request.checkpointName
        let key = Self.ledgerKey(name, [String(eval.images), eval.evaluator] + eval.probeSplit.map(String.init))
        if let e = try ledger?.entry(key, as: TokenizerPart.self) {
            log("tokenizer \(describe): from the ledger")
            return e
        }
        if try !registry.exists(name) { try await trainTokenizer(request, describe: describe) }
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
        let part = TokenizerPart(seconds: seconds, metrics: metrics, history: history, reconstruction: try reconstruction.map(Self.base64),
                                 originals: try originals.map(Self.base64))
        try ledger?.store(part, key: key, provenance: provenance)
        return ReportLedger.Entry(value: part, measuredBy: provenance)
    }

    func trainTokenizer(_ request: Latentmesh_V1_TokenizerTrainRequest, describe: String) async throws {
        log("training tokenizer \(describe)")
        _ = try await session.callFollowing("tokenizer.train", request, as: Latentmesh_V1_TokenizerTrainResult.self)
    }

    /// `model` (a recipe name) and a hash of the evaluation settings `parts`.
    static func ledgerKey(_ model: String, _ parts: [String]) -> String {
        model + "." + EvaluationCache.key("eval", parts)
    }

    static func base64(_ image: ImageBuffer) throws -> String { Data(try PNGCodec.encode(image)).base64EncodedString() }

    static func image(_ base64: String) throws -> ImageBuffer {
        guard let d = Data(base64Encoded: base64) else { throw ValidationFailure("ledger: an image is not base64") }
        return try PNGCodec.decode([UInt8](d))
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
