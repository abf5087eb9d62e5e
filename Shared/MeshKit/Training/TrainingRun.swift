import Foundation
import RunStore

/// The one training-run driver every training method uses (tokenizer.train, decode.train,
/// and the generator, personalize and distill trainers to come):
///
/// 1. records the resolved config, seed and git commit as the run's `config` audit event;
/// 2. resumes: a redelivered request (attempt > 1) continues from the newest checkpoint its
///    run stored; a request with `plan.resume` continues from the model registered under
///    its name;
/// 3. steps the session under the process's compute gate, checking cancellation and the
///    deadline between steps, yielding so other requests of the process progress;
/// 4. reports progress with every metric of the step plus `eta_s`, throughput in items/s;
/// 5. stores a checkpoint every `plan.checkpointEvery` steps (artifact + `checkpoint` event);
/// 6. stores the final checkpoint and registers it under `plan.modelName`.
public enum TrainingRun {
    /// Runs `session` to its last step for the run of `context`.
    public static func run(_ session: TrainingSession, plan: TrainingPlan, context: RunContext) async throws -> TrainingOutcome {
        let registry = try context.models()
        let artifacts = registry.artifacts
        let resumedFrom = try resume(session, plan: plan, context: context, registry: registry)
        try recordConfig(plan, startStep: session.completedSteps, context: context)

        let tmp = FileManager.default.temporaryDirectory
            .appendingPathComponent("ckpt-\(context.runID)-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: tmp) }
        func store() throws -> ArtifactRecord {
            try session.saveCheckpoint(to: tmp)
            return try artifacts.put(fileAt: tmp, mediaType: plan.mediaType, runID: context.runID)
        }

        let total = session.totalSteps
        let t0 = Date(), firstStep = session.completedSteps
        var items = 0
        var last: [String: Double] = [:]
        var lastReport = Date.distantPast
        while session.completedSteps < total {
            try context.checkCancelled()
            let s: TrainingStep
            do { s = try await context.compute { try session.step() } } catch let e as ServiceError { throw e } catch {
                throw ServiceError(.internalError, "training step \(session.completedSteps + 1) failed: \(error)")
            }
            let step = session.completedSteps
            if let loss = s.metrics["loss"], !loss.isFinite {
                throw ServiceError(.internalError, "loss is not finite at step \(step): \(s.metrics)")
            }
            last = s.metrics
            items += s.items
            let done = step >= total
            if done || Date().timeIntervalSince(lastReport) >= plan.progressInterval {
                let elapsed = max(Date().timeIntervalSince(t0), 1e-9)
                let stepsPerSecond = Double(step - firstStep) / elapsed
                var metrics = s.metrics
                metrics["eta_s"] = stepsPerSecond > 0 ? Double(total - step) / stepsPerSecond : 0
                await context.progress(step: step, total: total, metrics: metrics,
                                       itemsPerSecond: Double(items) / elapsed)
                lastReport = Date()
            }
            if !done && step % plan.checkpointEvery == 0 {
                let rec = try store()
                try recordCheckpoint(rec, step: step, plan: plan, context: context)
            }
            await Task.yield()
        }
        let final = try store()
        try recordCheckpoint(final, step: session.completedSteps, plan: plan, context: context)
        let model = try registry.register(name: plan.modelName, artifact: final, kind: plan.kind, service: context.service,
                                          configJSON: plan.configJSON, parents: plan.parents, runID: context.runID)
        return TrainingOutcome(model: model, artifact: final, steps: session.completedSteps, resumedFrom: resumedFrom,
                               finalMetrics: last.filter { $0.value.isFinite }, seconds: Date().timeIntervalSince(t0))
    }

    /// Restores the session when the run is a redelivery or asks to resume; returns the step
    /// it continues from (0 = from scratch).
    static func resume(_ session: TrainingSession, plan: TrainingPlan, context: RunContext,
                       registry: ModelRegistry) throws -> Int {
        var source: (sha256: String, what: String)?
        if context.attempt > 1, let c = try latestCheckpoint(context: context) {
            source = (c, "this run's newest checkpoint")
        } else if plan.resume, let rec = try registry.store.model(name: plan.modelName) {
            source = (rec.sha256, "model '\(plan.modelName)'")
        }
        guard let source else { return 0 }
        let url = try registry.artifacts.url(sha256: source.sha256)
        do { try session.restore(from: url) } catch let e as ServiceError { throw e } catch {
            throw ServiceError(.internalError, "cannot resume from \(source.what): \(error)")
        }
        context.logger.info("resumed \(plan.modelName) from \(source.what) at step \(session.completedSteps)")
        return session.completedSteps
    }

    /// The sha256 of the newest checkpoint this run recorded (in an earlier attempt).
    static func latestCheckpoint(context: RunContext) throws -> String? {
        try context.store.flush()
        return try context.store.events(runID: context.runID, limit: 100_000).last { $0.type == "checkpoint" }
            .flatMap { try? JSONSerialization.jsonObject(with: Data($0.payloadJSON.utf8)) as? [String: Any] }
            .flatMap { $0["sha256"] as? String }
    }

    /// The `config` audit event: resolved config, seed, commit, model name and start step.
    static func recordConfig(_ plan: TrainingPlan, startStep: Int, context: RunContext) throws {
        let config = (try? JSONSerialization.jsonObject(with: Data(plan.configJSON.utf8))) ?? [String: Any]()
        let payload: [String: Any] = [
            "resolved_config": config, "seed": "\(plan.seed)", "git_commit": GitInfo.commit,
            "model_name": plan.modelName, "kind": plan.kind, "parents": plan.parents, "start_step": startStep,
            "attempt": context.attempt,
        ]
        try append("config", payload, context: context)
    }

    /// A `checkpoint` event, written through so a redelivery after a crash finds it.
    static func recordCheckpoint(_ rec: ArtifactRecord, step: Int, plan: TrainingPlan, context: RunContext) throws {
        try append("checkpoint", ["sha256": rec.sha256, "size": rec.size, "step": step, "model_name": plan.modelName],
                   context: context)
        try context.store.flush()
    }

    static func append(_ type: String, _ payload: [String: Any], context: RunContext) throws {
        let data = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        try context.store.appendEvent(RunEvent(runID: context.runID, type: type, payloadJSON: String(decoding: data, as: UTF8.self)))
    }
}
