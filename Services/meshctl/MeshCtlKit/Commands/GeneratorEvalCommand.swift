import ArgumentParser
import Foundation
import GeneratorSvc
import MeshKit
import MeshProto

/// `meshctl generator eval MODEL [--images N --steps --guidance --sampler --seed]`: sends
/// `generator.evaluate`, follows its progress, prints gFD (with the image count) and class and
/// colour accuracy with their 95 % intervals.
struct GeneratorEvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a generator: gFD (FD-EffNet vs fmnist-color-test) and prompt class / colour accuracy with spreads.")
    @Argument(help: "Registered generator (default \(GeneratorService.defaultModel)).") var model: String?
    @Option(help: "Generated images (2-10000).") var images: Int32 = GeneratorService.defaultEvalImages
    @Option(help: "Sampler steps (1-1000).") var steps: Int32 = GeneratorService.defaultSteps
    @Option(help: "Classifier-free guidance scale (0-20).") var guidance: Float = GeneratorService.defaultEvalGuidance
    @Option(help: "Sampler: euler or heun.") var sampler = "euler"
    @Option(help: "Seed of the prompt order and the noise (image i uses seed + i).") var seed: UInt64 = 0
    @Option(help: "Evaluator: standard (whole test split, full judge) or quick (smoke test).") var evaluator = "standard"
    @Flag(help: "Print the metrics as JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let session = try await MeshSession.open(connection)
        var req = Latentmesh_V1_GeneratorEvaluateRequest()
        req.modelName = model ?? ""; req.images = images; req.steps = steps; req.guidance = guidance
        req.sampler = sampler; req.seed = seed; req.evaluator = evaluator
        req.meta.requestID = UUID().uuidString.lowercased()
        let watcher = json ? nil : Task { _ = try? await ProgressFollower(store: session.store, target: .requestID(req.meta.requestID)).follow() }
        let a: MeshClient.Answer<Latentmesh_V1_GeneratorEvaluateResult>
        do {
            a = try await session.client.call("generator.evaluate", req, as: Latentmesh_V1_GeneratorEvaluateResult.self,
                                              timeout: .seconds(86_400))
            watcher?.cancel()
        } catch {
            watcher?.cancel()
            print("\ngenerator.evaluate: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        await session.close()
        let r = a.response
        if json { printJSON(r.metrics.merging(["steps": Double(r.steps), "guidance": Double(r.guidance)]) { x, _ in x }); return }
        print("\nrun \(a.reply.runID): generator '\(r.modelName)', \(r.images) images, \(r.steps) \(r.sampler) steps, guidance \(r.guidance), seed \(r.seed), \(String(format: "%.0f", r.seconds)) s")
        print(r.summary)
        let m = r.metrics
        for (prefix, label) in [("real_", "real training images"), ("recon_", "their tokenizer reconstructions")] where m[prefix + "gfd"] != nil {
            print("anchor, \(r.images) \(label): " + String(format: "gFD %.2f (std %.2f), class accuracy %.3f [%.3f, %.3f], colour accuracy %.3f",
                         m[prefix + "gfd"]!, m[prefix + "gfd_std"] ?? 0, m[prefix + "class_accuracy"] ?? .nan,
                         m[prefix + "class_accuracy_low"] ?? .nan, m[prefix + "class_accuracy_high"] ?? .nan, m[prefix + "color_accuracy"] ?? .nan))
        }
        if r.hasGrid { print("sample grid: artifact \(r.grid.sha256)") }
    }
}
