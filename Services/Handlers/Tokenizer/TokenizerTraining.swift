import Foundation
import MeshKit
import MeshProto
import RunStore
import VTP

/// `tokenizer.train`: a step loop with progress, cancellation and periodic checkpoints in the
/// artifact store, registered under the checkpoint name so a redelivered or `resume` request
/// continues from the newest one.
enum TokenizerTraining {
    static let textLock = NSLock()
    nonisolated(unsafe) static var sharedText: TextEmbeddingCache?

    static func text() throws -> TextEmbeddingCache {
        textLock.lock(); defer { textLock.unlock() }
        if let t = sharedText { return t }
        let t = try TextEmbeddingCache.miniLM()
        sharedText = t
        return t
    }

    static func run(_ req: Latentmesh_V1_TokenizerTrainRequest, context: RunContext) async throws -> Latentmesh_V1_TokenizerTrainResult {
        guard !req.preset.isEmpty else { throw ServiceError.invalid("preset", "must name a preset, e.g. vtp-fmnist32-s") }
        var config: VTPConfig
        do { config = try VTPPresets.resolve(req.preset) } catch {
            throw ServiceError.invalid("preset", "unknown preset '\(req.preset)'; use one of \(VTPPresets.names.joined(separator: ", "))")
        }
        guard (0...TokenizerService.maxSteps).contains(req.steps) else {
            throw ServiceError.outOfRange("steps", req.steps, 0...TokenizerService.maxSteps)
        }
        if req.steps > 0 { config.train.steps = Int(req.steps) }
        config.train.seed = req.seed
        let name = req.checkpointName.isEmpty ? req.preset : req.checkpointName
        guard CheckpointRegistry.isValidName(name) else {
            throw ServiceError.invalid("checkpoint_name", "'\(name)' must be 1-64 characters of [A-Za-z0-9._-]")
        }
        guard let artifacts = context.artifacts else { throw ServiceError(.unavailable, "this worker has no artifact store") }
        let registry = CheckpointRegistry(artifacts: artifacts)

        let trainer: VTPTrainer
        do { trainer = try VTPTrainer(config: config, text: try text()) } catch {
            throw ServiceError(.internalError, "cannot set up training: \(error)")
        }
        // Resume from the newest checkpoint of this name when asked or when redelivered.
        if req.resume || context.attempt > 1, let e = try registry.entry(name) {
            let path = try artifacts.url(sha256: e.sha256).path
            do {
                let (cfg, _) = try VTPCheckpoint.header(at: path)
                if cfg.model == config.model && cfg.variant == config.variant {
                    try VTPCheckpoint.restore(trainer, from: path)
                    context.logger.info("resumed \(name) at step \(trainer.stepIndex)")
                } else if req.resume {
                    throw ServiceError.invalid("resume", "checkpoint '\(name)' was trained with preset \(cfg.preset), not \(config.preset)")
                }
            } catch let e as ServiceError { throw e } catch {
                throw ServiceError(.internalError, "cannot resume from '\(name)': \(error)")
            }
        }
        let total = config.train.steps
        // The fully resolved configuration goes into the audit with the run.
        do {
            let cfgJSON = try JSONSerialization.jsonObject(with: Data(try config.json().utf8))
            let payload = try JSONSerialization.data(withJSONObject: ["resolved_config": cfgJSON, "checkpoint_name": name,
                                                                       "start_step": trainer.stepIndex], options: [.sortedKeys])
            try context.store.appendEvent(RunEvent(runID: context.runID, type: "config", payloadJSON: String(decoding: payload, as: UTF8.self)))
        } catch { context.logger.warning("could not record the resolved config: \(error)") }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("vtp-\(context.runID)-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: tmp) }
        func checkpoint(finished: Bool) throws -> ArtifactRecord {
            try VTPCheckpoint.save(trainer, to: tmp.path)
            let rec = try artifacts.put(fileAt: tmp, mediaType: "application/vnd.latentmesh.vtp+safetensors", runID: context.runID)
            _ = try artifacts.put(Data(try config.json().utf8), mediaType: "application/json", runID: context.runID)
            try registry.register(.init(name: name, sha256: rec.sha256, preset: config.preset, step: trainer.stepIndex,
                                        totalSteps: total, finished: finished, runID: context.runID,
                                        requestID: context.requestID, updatedAt: Date()))
            return rec
        }
        var last: [String: Double] = [:]
        var lastReport = Date.distantPast
        while !trainer.isFinished {
            try context.checkCancelled()
            let stats: VTPStepStats
            do { stats = try trainer.step() } catch { throw ServiceError(.internalError, "training step failed: \(error)") }
            last = stats.metrics
            guard stats.metrics["loss"].map({ $0.isFinite }) ?? false else {
                throw ServiceError(.internalError, "loss is not finite at step \(stats.step): \(stats.metrics)")
            }
            if Date().timeIntervalSince(lastReport) > 0.5 || trainer.isFinished {
                await context.progress(step: stats.step, total: total, metrics: stats.metrics,
                                       itemsPerSecond: stats.imagesPerSecond)
                lastReport = Date()
            }
            if stats.step % config.train.checkpointEvery == 0 && !trainer.isFinished {
                _ = try checkpoint(finished: false)
            }
            await Task.yield()
        }
        let rec = try checkpoint(finished: true)
        var result = Latentmesh_V1_TokenizerTrainResult()
        result.checkpointName = name
        result.checkpoint.sha256 = rec.sha256
        result.checkpoint.size = rec.size
        result.checkpoint.path = rec.path
        result.checkpoint.mediaType = rec.mediaType
        result.finalMetrics = last.filter { $0.value.isFinite }
        result.steps = Int64(trainer.stepIndex)
        return result
    }
}
