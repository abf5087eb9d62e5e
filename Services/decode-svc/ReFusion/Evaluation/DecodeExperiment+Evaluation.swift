import Foundation

extension DecodeExperiment {
    /// The faster of two identical evaluations (greedy decoding gives the same tokens; only time differs),
    /// which damps interference from other jobs on a shared machine.
    static func fasterOfTwo(_ body: () -> EvaluationResult) -> EvaluationResult {
        let a = body(), b = body()
        return a.seconds <= b.seconds ? a : b
    }

    /// Every input of a seed's measurements besides its models, including what its timings depend
    /// on: the CPU and the thread count (provenance `cpu`, `threads`); v3: decoding with weights
    /// packed once per stream and the plan fused into the verify forward. A report so never mixes
    /// tokens/s measured on different machines: another machine measures every seed again.
    var evaluationRecipe: [String] {
        ["decode-eval v3", "\(plan.parameters)", "slots \(plan.slotSweep)", "thresholds \(plan.thresholdSweep)", plan.dataRecipe,
         timingContext]
    }

    /// "timed on CPU, N threads" from the provenance ("-" where it does not say).
    var timingContext: String {
        "timed on \(cache.provenance["cpu"] ?? "-"), \(cache.provenance["threads"] ?? "-") threads"
    }

    /// Exact match on arithmetic of `d` (the faster of two passes).
    func arithmetic(_ d: DecoderUnderTest) -> EvaluationResult {
        Self.fasterOfTwo { DecodeEvaluation.arithmetic(d, examples: data.arithmeticTest, maxTokens: data.responseBudget(.arithmetic)) }
    }

    /// The exact-match tasks: arithmetic, then the plan's extra tasks.
    var exactMatchTasks: [String] { [SequenceExample.Task.arithmetic.rawValue] + data.extra.map(\.task.rawValue) }

    /// Exact match of `d` on the exact-match task named `task` (the faster of two passes).
    func exactMatch(_ d: DecoderUnderTest, task: String) -> EvaluationResult {
        if task == SequenceExample.Task.arithmetic.rawValue { return arithmetic(d) }
        guard let x = data.extra.first(where: { $0.task.rawValue == task }) else { preconditionFailure("no exact-match task '\(task)' in the data") }
        return Self.fasterOfTwo { DecodeEvaluation.exactMatch(d, task: x.task, examples: x.test, maxTokens: data.responseBudget(x.task)) }
    }

    /// One seed's measurements (cached by its models' names and `evaluationRecipe`): the main
    /// decoders on every task, the threshold curves of ReFusion and MDM on every exact-match task,
    /// ReFusion's slot sweep on arithmetic; `paperRecipe` (first seed only) adds its AR-decoding row.
    /// Every finished pass is kept (`EvaluationProgress`), so a stopped run resumes the set where it stopped.
    func evaluateSeed(ar: TrainedModel, mdm: TrainedModel, refusion rf: TrainedModel, paperRecipe: TrainedModel?,
                      log: (String) -> Void) throws -> SeedRun {
        let names = [ar.name, mdm.name, rf.name, paperRecipe?.name ?? "-"]
        let name = DecodeModelCache.name("decode-eval", names + evaluationRecipe)
        let run = try cache.measurements(name) {
            let done = try EvaluationProgress(file: cache.progressURL(name))
            if !done.parts.isEmpty { log("evaluate seed \(ar.seed): resuming after \(done.parts.count) finished passes") }
            let p = plan.parameters
            let (arModel, mdmModel, rfModel) = (try ar.model(log: log), try mdm.model(log: log), try rf.model(log: log))
            var decoders = [
                DecoderUnderTest(name: Self.arDecoder, mode: .ar, model: arModel, parameters: p),
                DecoderUnderTest(name: Self.mdmDecoder, mode: .mdm, model: mdmModel, parameters: p),
                DecoderUnderTest(name: Self.refusionDecoder, mode: .refusion, model: rfModel, parameters: p),
                DecoderUnderTest(name: Self.draftKeepingDecoder, mode: .refusion, model: rfModel, parameters: p,
                                 variant: .draftKeeping),
                DecoderUnderTest(name: Self.refusionARDecoder, mode: .ar, model: rfModel, parameters: p),
            ]
            if let paperRecipe {
                decoders.append(DecoderUnderTest(name: Self.paperRecipeARDecoding, mode: .ar, model: try paperRecipe.model(log: log), parameters: p))
            }
            let judge = CharNGramJudge(corpus: data.textTrain.map { $0.promptText + $0.responseText })
            let textTest = Array(data.textTest.prefix(plan.textTestCount))
            var main: [EvaluationResult] = []
            var samples: [String: [[String]]] = [:]
            for d in decoders {
                log("evaluate seed \(ar.seed): \(d.name)")
                main.append(try done.result("main|\(d.name)|arithmetic") { arithmetic(d) })
                let text = try done.pass("main|\(d.name)|text") {
                    var (r, s) = DecodeEvaluation.text(d, examples: textTest, maxTokens: data.responseBudget(.text), judge: judge)
                    let again = DecodeEvaluation.text(d, examples: textTest, maxTokens: data.responseBudget(.text), judge: judge).0
                    if again.seconds < r.seconds { r = again }
                    return EvaluationProgress.Part(result: r, samples: s.map { [$0.0, $0.1] })
                }
                main.append(text.result); samples[d.name] = text.samples
                for x in data.extra {
                    let task = x.task.rawValue
                    main.append(try done.result("main|\(d.name)|\(task)") { exactMatch(d, task: task) })
                }
            }
            var curves: [CurvePoint] = []
            for tau in plan.thresholdSweep {
                var q = p
                q.slotThreshold = tau; q.tokenThreshold = tau
                for task in exactMatchTasks {
                    log("evaluate seed \(ar.seed): threshold \(tau), \(task)")
                    curves.append(CurvePoint(decoder: Self.refusionDecoder, threshold: tau, result: try done.result("curve|refusion|\(tau)|\(task)") {
                        exactMatch(DecoderUnderTest(name: "ReFusion tau=\(tau)", mode: .refusion, model: rfModel, parameters: q), task: task)
                    }))
                    curves.append(CurvePoint(decoder: Self.mdmDecoder, threshold: tau, result: try done.result("curve|mdm|\(tau)|\(task)") {
                        exactMatch(DecoderUnderTest(name: "MDM tau=\(tau)", mode: .mdm, model: mdmModel, parameters: q), task: task)
                    }))
                }
            }
            var slots: [SlotPoint] = []
            for k in plan.slotSweep {
                var q = p
                q.slotSize = k
                q.blockSize = max(p.blockSize, k) / k * k
                log("evaluate seed \(ar.seed): slot size \(k)")
                slots.append(SlotPoint(k: k, blockSize: q.blockSize, result: try done.result("slot|\(k)") {
                    arithmetic(DecoderUnderTest(name: "ReFusion k=\(k)", mode: .refusion, model: rfModel, parameters: q))
                }))
            }
            return SeedRun(seed: ar.seed, main: main, curves: curves, slotSweep: slots, textSamples: samples)
        }
        EvaluationProgress.finish(file: cache.progressURL(name))   // also a leftover of a run stopped after storing the set
        return run
    }
}
