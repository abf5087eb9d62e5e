import ArgumentParser
import ComputeCore
import Datasets
import DTI
import Evaluation
import FlowGen
import Foundation
import MeshKit
import MeshProto
import Models
import RecTok
import VTP

/// `meshctl report personalize`: trains (or reuses) the frozen tokenizer and generator through the
/// mesh, runs the DTI-vs-TI experiment of a named plan and writes `personalize.md` + figures.
public enum PersonalizeReport {
    /// Registry names of the plan's frozen models.
    public static func modelNames(_ plan: PersonalizePlan) -> (tokenizer: String, generator: String) {
        let tok = ReportModelNames.tokenizer("report-personalize-tok-\(plan.name)", preset: plan.tokenizerPreset,
                                             steps: plan.tokenizerSteps, seed: 0)
        return (tok, ReportModelNames.generator("report-personalize-gen-\(plan.name)", preset: plan.generatorPreset,
                                                steps: plan.generatorSteps, trainLimit: plan.generatorTrainLimit, seed: 0, tokenizer: tok))
    }

    /// Runs plan `planName` on `session`'s mesh; writes `outputDir/personalize.md` and
    /// `outputDir/personalize/*.png` (+ `outcome.json`).
    @discardableResult
    public static func run(outputDir: URL, planName: String, session: MeshSession,
                           log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) async throws -> PersonalizeExperiment.Outcome {
        guard let plan = PersonalizePlan.named(planName) else {
            throw ValidationFailure("unknown personalize report plan '\(planName)': expected one of \(PersonalizePlan.names.joined(separator: ", "))")
        }
        let provenance = ReportProvenance.current().dictionary
        let (tokName, genName) = modelNames(plan)
        let registry = ModelRegistry(artifacts: session.artifacts)
        if try !registry.exists(tokName) {
            log("training tokenizer \(tokName) (\(plan.tokenizerPreset))")
            var t = Latentmesh_V1_TokenizerTrainRequest()
            t.preset = plan.tokenizerPreset; t.steps = Int64(plan.tokenizerSteps); t.seed = 0; t.checkpointName = tokName
            _ = try await session.client.call("tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self, timeout: .seconds(7 * 86_400))
        }
        if try !registry.exists(genName) {
            log("training generator \(genName) (\(plan.generatorPreset))")
            var g = Latentmesh_V1_GeneratorTrainRequest()
            g.preset = plan.generatorPreset; g.tokenizerCheckpoint = tokName; g.steps = Int64(plan.generatorSteps); g.seed = 0; g.modelName = genName
            g.trainLimit = Int64(plan.generatorTrainLimit)
            _ = try await session.client.call("generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self, timeout: .seconds(7 * 86_400))
        }
        let tokRec = try registry.record(tokName, field: "tokenizer"), genRec = try registry.record(genName, field: "generator")
        let tok = try LatentTokenizers.load(checkpointPath: try registry.file(tokRec, field: "tokenizer").path)
        let gen = try FlowGenCheckpoint.load(from: try registry.file(genRec, field: "generator").path)
        Threads.configure(max(1, ProcessInfo.processInfo.activeProcessorCount))

        let encoder = try MiniLMEncoder(maxLength: 32)
        let mStar = encoder.meanVocabularyNorm()
        log("fitting the positional probe")
        let probe = try PositionalProbe(encoder: encoder)
        let effnet = try EffNetFeatureExtractor(resolution: 128)
        let evaluator = ConceptEvaluator(generator: gen, encoder: encoder, mStar: mStar, probe: probe, effnet: effnet,
                                         settings: plan.evaluation) { try tok.decode($0) }
        let data = try FashionMNISTColor(part: .test)
        let concepts = try ExperimentConcept.make(count: plan.concepts, views: plan.imagesPerConcept, offset: 0, prefix: "c", data: data) { try tok.encode($0) }
        let tuning = try ExperimentConcept.make(count: plan.tuningConcepts, views: plan.imagesPerConcept, offset: 5000, prefix: "tune", data: data) { try tok.encode($0) }
        let experiment = PersonalizeExperiment(plan: plan, concepts: concepts, tuningConcepts: tuning, encoder: encoder, generator: gen, evaluator: evaluator)
        let outcome = try experiment.run(log: log)
        let figDir = outputDir.appendingPathComponent("personalize")
        let figures = try experiment.writeFigures(outcome, to: figDir)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try enc.encode(outcome).write(to: figDir.appendingPathComponent("outcome.json"))
        let models = "tokenizer `\(tokName)` (\(plan.tokenizerPreset), sha256 \(tokRec.sha256.prefix(12))), generator `\(genName)` (\(plan.generatorPreset), \(gen.step) steps, sha256 \(genRec.sha256.prefix(12)))"
        let md = PersonalizeReportRenderer.markdown(outcome, figures: figures, figureDir: "personalize", provenance: provenance, models: models)
        let file = outputDir.appendingPathComponent("personalize.md")
        try md.write(to: file, atomically: true, encoding: .utf8)
        log("wrote \(file.path)")
        return outcome
    }
}

/// `meshctl report personalize --plan standard|quick`.
struct ReportPersonalizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "personalize",
        abstract: "DTI vs TI vs TI rescaled on held-out fmnist-color concepts; write docs/results/personalize.md (plan quick: a smoke run).")
    @Option(help: "Output directory.") var output = "docs/results"
    @Option(help: "Experiment plan: standard (the committed report) or quick (seconds; never commit its output).") var plan = "standard"
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard PersonalizePlan.names.contains(plan) else {
            throw ValidationError("--plan '\(plan)': expected \(PersonalizePlan.names.joined(separator: " or "))")
        }
    }

    func run() async throws {
        _ = try await MeshSession.with(connection) { session in
            try await PersonalizeReport.run(outputDir: URL(fileURLWithPath: output), planName: plan, session: session)
        }
    }
}
