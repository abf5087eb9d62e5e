import Foundation

extension DecodeExperiment {
    /// The training setup of one model (ReFusion from an AR model: fresh AdamW, the same schedule).
    func setup(_ mode: DecodeMode, seed: UInt64, learningRate: Float, steps: Int, paperRecipe: Bool = false) -> TrainingSetup {
        var s = TrainingSetup(objective: mode, steps: steps, batchSize: plan.batchSize, learningRate: learningRate,
                              seed: seed &+ UInt64(mode.hashValueStable))
        s.boundaryLabels = !paperRecipe
        s.causalLMShare = paperRecipe ? 0 : plan.causalLMShare
        return s
    }

    /// The cache name of a model: its kind and every input of its training (preset configuration,
    /// objective settings, learning rate, seed, stopping rule, data, initial model).
    func modelName(kind: String, setup s: TrainingSetup, rule: PlateauTraining, initial: String?) -> String {
        let config = TransformerConfig.preset(plan.modelPreset)!
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys   // the same bytes in every process
        let configJSON = (try? encoder.encode(config)).flatMap { String(data: $0, encoding: .utf8) } ?? plan.modelPreset
        let recipe = ["decode-model v1", kind, plan.modelPreset, configJSON, s.objective.rawValue,
                      "batch \(s.batchSize) lr \(s.learningRate) warmup \(s.warmupSteps) seed \(s.seed)",
                      "slots \(s.slotSizes) text \(s.textShare) boundary \(s.boundaryLabels) causalLM \(s.causalLMShare)",
                      "max \(rule.maxSteps) every \(rule.evalEvery) patience \(rule.patience) min \(rule.minRelativeImprovement)",
                      plan.dataRecipe, initial ?? "scratch"]
        return DecodeModelCache.name("decode-\(kind)", recipe)
    }

    /// The name model `kind` is kept under. Its own recipe name, unless only the ledger holds the same
    /// model under the plan's smaller base patience (`Plan.patience(forCap:)` raised it): a run under
    /// that patience which reached the step cap without plateauing is exactly the model `rule` trains
    /// (training is deterministic; patience only decides when to stop), so its entry is reused under
    /// its own name instead of training the same steps again.
    func cachedName(kind: String, setup s: TrainingSetup, rule: PlateauTraining, initial: String?, label: String,
                    log: (String) -> Void) throws -> String {
        let name = modelName(kind: kind, setup: s, rule: rule, initial: initial)
        var base = rule
        base.patience = plan.patience
        guard base.patience < rule.patience, try cache.peekLedgerRecord(name) == nil else { return name }
        let baseName = modelName(kind: kind, setup: s, rule: base, initial: initial)
        guard let r = try cache.peekLedgerRecord(baseName), !r.training.plateaued else { return name }
        log("\(label): its run under patience \(base.patience) reached the step cap, the same model as under patience \(rule.patience): \(baseName)")
        return baseName
    }

    /// Trains (or loads from the cache) one model of `mode` until held-out loss plateaus. A model
    /// whose record is in the ledger is not materialised here: its weights are made (loaded from the
    /// disk cache, or retrained with the same recipe) only if a measurement still needs them.
    func trainModel(_ mode: DecodeMode, kind: String, seed: UInt64, learningRate: Float, rule: PlateauTraining,
                    initial: TrainedModel?, paperRecipe: Bool = false, label: String,
                    log: (String) -> Void, shouldStop: () throws -> Void) throws -> TrainedModel {
        let s = setup(mode, seed: seed, learningRate: learningRate, steps: rule.maxSteps, paperRecipe: paperRecipe)
        let name = try cachedName(kind: kind, setup: s, rule: rule, initial: initial?.name, label: label, log: log)
        let (cache, config, data) = (self.cache, TransformerConfig.preset(plan.modelPreset)!, self.data)
        let make: (_ log: (String) -> Void, _ shouldStop: () throws -> Void) throws -> (TransformerLM, TrainingRecord) = { log, shouldStop in
            try cache.model(name) {
                let snapshot = cache.snapshotURL(name)
                let resuming = snapshot.map { FileManager.default.fileExists(atPath: $0.path) } ?? false
                log("train \(label): \(name), lr \(learningRate), at most \(rule.maxSteps) steps"
                    + (resuming ? " (continuing from its snapshot)" : ""))
                let trainer = DecodeTrainer(config: config, setup: s, data: data,
                                            initial: try initial?.model(log: log, shouldStop: shouldStop))
                let result = try rule.run(trainer, heldOut: data.validation, snapshot: snapshot, shouldStop: shouldStop) { step, total, loss in
                    log("  \(label) step \(step)/\(total) held-out loss \(String(format: "%.4f", loss))")
                }
                return (trainer.model, TrainingRecord(kind: kind, seed: seed, learningRate: learningRate,
                                                     parameters: trainer.model.parameterCount, training: result))
            }
        }
        func summary(_ how: String, _ r: PlateauTraining.Result) -> String {
            "\(how) \(label): \(r.stepsTrained) steps (best \(r.bestStep)), held-out loss " + String(format: "%.4f", r.bestHeldOutLoss)
        }
        if let record = try cache.ledgerRecord(name) {
            log(summary("ledger", record.training))
            return TrainedModel(name: name, record: record) { log, shouldStop in
                let (m, r) = try make(log, shouldStop)
                if !r.training.sameRun(as: record.training) {
                    log("\(label): this run's training took another path than the ledger's record (held-out loss "
                        + String(format: "%.4f at step %d vs %.4f at step %d", r.training.bestHeldOutLoss, r.training.bestStep,
                                 record.training.bestHeldOutLoss, record.training.bestStep)
                        + "; other hardware rounds differently): the ledger now records this run, whose weights are measured")
                }
                return (m, r)
            }
        }
        let before = cache.computed
        let (model, record) = try make(log, shouldStop)
        log(summary(cache.computed > before ? "trained" : "reused cached", record.training))
        return TrainedModel(name: name, model: model, record: record)
    }

    /// The learning-rate sweep of `mode` on the first seed (`sweepSteps` steps each): the rate with
    /// the lowest held-out loss, and every run.
    func sweepLearningRate(_ mode: DecodeMode, initial: TrainedModel?, log: (String) -> Void,
                           shouldStop: () throws -> Void) throws -> (Float, [SweepRun]) {
        guard plan.learningRates.count > 1 else { return (plan.learningRates[0], []) }
        let rule = PlateauTraining(maxSteps: plan.sweepSteps, evalEvery: plan.evalEvery, patience: plan.patience)
        let runs = try plan.learningRates.map { lr in
            let m = try trainModel(mode, kind: "\(mode.rawValue)-sweep", seed: plan.seeds[0], learningRate: lr, rule: rule,
                                   initial: initial, label: "\(mode.rawValue) sweep lr \(lr)", log: log, shouldStop: shouldStop)
            return SweepRun(kind: mode.rawValue, learningRate: lr, heldOutLoss: m.record.training.bestHeldOutLoss,
                            stepsTrained: m.record.training.stepsTrained)
        }
        let best = runs.min { $0.heldOutLoss < $1.heldOutLoss }!
        log("\(mode.rawValue): learning rate \(best.learningRate) (held-out loss \(String(format: "%.4f", best.heldOutLoss)))")
        return (best.learningRate, runs)
    }

    /// One seed's model of `mode` at `learningRate`, trained until held-out loss plateaus (step cap per kind).
    func trainSeed(_ mode: DecodeMode, seed: UInt64, learningRate: Float, initial: TrainedModel?, paperRecipe: Bool = false,
                   log: (String) -> Void, shouldStop: () throws -> Void) throws -> TrainedModel {
        let cap = mode == .ar ? plan.arSteps : (mode == .mdm ? plan.mdmSteps : plan.refusionSteps)
        let rule = PlateauTraining(maxSteps: cap, evalEvery: plan.evalEvery, patience: plan.patience(forCap: cap))
        let kind = paperRecipe ? Self.paperRecipeModel : mode.rawValue
        return try trainModel(mode, kind: kind, seed: seed, learningRate: learningRate, rule: rule, initial: initial,
                              paperRecipe: paperRecipe, label: "\(kind) seed \(seed)", log: log, shouldStop: shouldStop)
    }

    /// Fixed-step training without held-out evaluation or cache (mesh-bench's own models):
    /// `plan.learningRate` (half of it from an initial model).
    public func train(_ mode: DecodeMode, steps: Int, initial: TransformerLM? = nil) -> TransformerLM {
        var s = setup(mode, seed: plan.seed, learningRate: initial == nil ? plan.learningRate : plan.learningRate / 2, steps: steps)
        s.steps = max(steps, 1)
        let t = DecodeTrainer(config: TransformerConfig.preset(plan.modelPreset)!, setup: s, data: data, initial: initial)
        for _ in 0..<max(steps, 1) { t.trainStep() }
        return t.model
    }
}
