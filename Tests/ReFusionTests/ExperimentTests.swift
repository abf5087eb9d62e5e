import Evaluation
import Foundation
import TestKit
import XCTest
@testable import ReFusion

/// The decode experiment's quick plan end to end: learning-rate sweeps, seeds trained until
/// held-out loss plateaus (tiny, a few steps), every decoder evaluated per seed, curves per
/// decoder, the report rendered; a rerun resumes from the cache without training anything.
final class ExperimentTests: XCTestCase {
    func testQuickPlanRunsEndToEndRendersTheReportAndResumesFromTheCache() throws {
        let plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        let data = try DecodeExperiment.standardData(plan: plan)   // needs fortunes-min (scripts/bootstrap)
        XCTAssertFalse(data.validation.isEmpty)
        XCTAssertTrue(Set(data.validation.map(\.prompt)).isDisjoint(with: data.arithmeticTest.map(\.prompt)), "validation is not test")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("decode-cache-\(getpid())")
        defer { try? FileManager.default.removeItem(at: cache) }
        var stages: [String] = []
        let o = try DecodeExperiment(plan: plan, data: data, cacheDirectory: cache).run(log: { stages.append($0) })
        // seeds: every kind once per seed, plus the sweeps and the paper-recipe ablation
        for kind in ["ar", "mdm", "refusion"] {
            XCTAssertEqual(o.models.filter { $0.kind == kind }.map(\.seed), plan.seeds, kind)
            XCTAssertEqual(o.sweep.filter { $0.kind == kind }.map(\.learningRate), plan.learningRates, kind)
            XCTAssertTrue(plan.learningRates.contains(try XCTUnwrap(o.chosenLearningRate[kind])), kind)
        }
        XCTAssertEqual(o.models.filter { $0.kind == DecodeExperiment.paperRecipeModel }.count, 1)
        for m in o.models {
            let t = m.record.training
            XCTAssertTrue(t.bestHeldOutLoss.isFinite && t.bestHeldOutLoss > 0, m.name)
            XCTAssertGreaterThan(t.stepsTrained, 0, m.name)
            XCTAssertGreaterThan(t.flops, 0, m.name)
            XCTAssertLessThanOrEqual(t.bestStep, t.stepsTrained, m.name)
        }
        XCTAssertTrue(stages.contains { $0.contains("held-out loss") }, "progress lines carry the held-out loss")
        let files = FileManager.default.enumerator(atPath: cache.path)?.allObjects as? [String] ?? []
        XCTAssertTrue(files.contains { $0.hasSuffix("model.safetensors") })
        XCTAssertFalse(files.contains { $0.hasSuffix("training-snapshot.safetensors") }, "finished models leave no snapshot")
        XCTAssertEqual(o.runs.map(\.seed), plan.seeds)
        for run in o.runs {
            XCTAssertEqual(Set(run.main.map(\.decoder)).count, run.seed == plan.seeds[0] ? 6 : 5)
            for r in run.main {
                XCTAssertEqual(r.examples, r.task == "arithmetic" ? plan.arithmeticTestCount : plan.textTestCount, r.decoder)
                XCTAssertGreaterThan(r.forwards, 0, r.decoder)
                if r.decoder != DecodeExperiment.draftKeepingDecoder { XCTAssertEqual(r.unverifiedCommits, 0, r.decoder) }
            }
            XCTAssertEqual(run.slotSweep.map(\.k), plan.slotSweep)
        }
        let sum = DecodeSummary(o)
        XCTAssertEqual(sum.curve(DecodeExperiment.refusionDecoder).map(\.threshold), plan.thresholdSweep)
        XCTAssertEqual(sum.curve(DecodeExperiment.mdmDecoder).map(\.threshold), plan.thresholdSweep)
        XCTAssertEqual(sum.curve(DecodeExperiment.arDecoder).count, 1)
        XCTAssertEqual(sum.accuracy(DecodeExperiment.refusionDecoder, "arithmetic")?.values.count, plan.seeds.count)

        let md = DecodeReportRenderer.markdown(o, environment: ["commit": "abc", "date": "today"], figures: ["arithmetic": "figures/x.png"])
        XCTAssertTrue(md.contains("experiment plan `quick`"))
        XCTAssertTrue(md.contains("| \(DecodeExperiment.draftKeepingDecoder) |"))
        XCTAssertTrue(md.contains(" ± "), "spread columns")
        XCTAssertTrue(md.contains("| Model | seed | learning rate | steps trained |"))
        XCTAssertTrue(md.contains("| Arithmetic exact match | test-set SE |"))
        XCTAssertTrue(md.contains("## Accuracy-throughput curves"))
        XCTAssertTrue(md.contains("![arithmetic: accuracy vs tokens/s per decoder](figures/x.png)"))
        XCTAssertTrue(md.contains("Does ReFusion training keep AR ability?"))
        XCTAssertTrue(md.contains("- Operating point, arithmetic: "))
        XCTAssertTrue(md.contains("| held-out cookies (reference) |"))
        XCTAssertFalse(md.contains("## Longer exact-match tasks"), "the quick plan has no extra tasks")
        let pngs = try DecodeReportRenderer.writeCurveFigures(o, to: cache.appendingPathComponent("figures"))
        XCTAssertEqual(Array(pngs.keys), ["arithmetic"], "the quick plan's one exact-match task")
        XCTAssertGreaterThan(try Data(contentsOf: cache.appendingPathComponent("figures/\(pngs["arithmetic"]!)")).count, 1000)

        // the same command again: every model and measurement set comes from the cache
        var again: [String] = []
        let o2 = try DecodeExperiment(plan: plan, data: data, cacheDirectory: cache).run(log: { again.append($0) })
        XCTAssertEqual(o2.cacheComputed, 0)
        XCTAssertEqual(o2.cacheReused, o.cacheComputed)
        XCTAssertFalse(again.contains { $0.hasPrefix("train ") }, "nothing retrained")
        XCTAssertTrue(again.contains { $0.hasPrefix("reused cached ar seed \(plan.seeds[0])") })
        XCTAssertEqual(o2.runs, o.runs)
        // a changed recipe never reuses a stale model
        var changed = plan
        changed.arSteps += 1
        let e = DecodeExperiment(plan: changed, data: data, cacheDirectory: cache)
        XCTAssertNotEqual(e.modelName(kind: "ar", setup: e.setup(.ar, seed: 1, learningRate: 2e-3, steps: changed.arSteps),
                                      rule: PlateauTraining(maxSteps: changed.arSteps, evalEvery: 3, patience: 2), initial: nil),
                          e.modelName(kind: "ar", setup: e.setup(.ar, seed: 1, learningRate: 2e-3, steps: plan.arSteps),
                                      rule: PlateauTraining(maxSteps: plan.arSteps, evalEvery: 3, patience: 2), initial: nil))
    }

    /// The committed ledger: a run on a fresh machine (no disk cache) reuses every training record
    /// and measurement set without materialising a model; with one seed's measurements missing it
    /// trains exactly that seed's models (and no sweep), and says which runs measured what.
    func testAFreshMachineResumesFromTheLedger() throws {
        var plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        plan.seeds = [1, 2]; plan.learningRates = [3e-3]
        let data = try DecodeExperiment.standardData(plan: plan)
        let root = TestRequirement.tempDir("decode-ledger")
        defer { try? FileManager.default.removeItem(at: root) }
        let ledger = ReportLedger(directory: root.appendingPathComponent("decode/ledger"))
        func run(cache: String, commit: String) throws -> (DecodeExperiment.Outcome, [String]) {
            var lines: [String] = []
            let o = try DecodeExperiment(plan: plan, data: data, cacheDirectory: root.appendingPathComponent(cache), ledger: ledger,
                                         provenance: ["commit": commit, "dirty": "no"]).run(log: { lines.append($0) })
            return (o, lines)
        }
        let (first, _) = try run(cache: "machine-1", commit: "c1")
        XCTAssertEqual(first.measuredAt, ["c1"])
        XCTAssertTrue(first.models.allSatisfy(\.isMaterialized))
        // A fresh machine: everything from the ledger, no weights made.
        let (second, lines) = try run(cache: "machine-2", commit: "c2")
        XCTAssertEqual(second.cacheComputed, 0, "\(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("train ") }, "\(lines)")
        XCTAssertTrue(second.models.allSatisfy { !$0.isMaterialized }, "no model is needed when every measurement is in the ledger")
        XCTAssertEqual(second.runs, first.runs)
        XCTAssertEqual(second.models.map(\.record), first.models.map(\.record))
        XCTAssertEqual(second.measuredAt, ["c1"], "the report cites the run that measured it")
        XCTAssertTrue(DecodeReportRenderer.markdown(second).contains("measured by runs at commit `c1`"))
        // Seed 2's measurements lost: only its three models are made (ReFusion from seed 2's AR model).
        let seed2 = DecodeModelCache.name("decode-eval", [second.models.first { $0.kind == "ar" && $0.seed == 2 }!.name,
                                                          second.models.first { $0.kind == "mdm" && $0.seed == 2 }!.name,
                                                          second.models.first { $0.kind == "refusion" && $0.seed == 2 }!.name, "-"]
                                              + DecodeExperiment(plan: plan, data: data).evaluationRecipe)
        try FileManager.default.removeItem(at: try ledger.file(seed2))
        // and seed 2's AR record stands for a run that took another path (as a retrain on other hardware would)
        let ar2 = second.models.first { $0.kind == "ar" && $0.seed == 2 }!
        var other = ar2.record
        other.training.curve[other.training.curve.count - 1][1] += 0.5
        try ledger.store(other, key: ar2.name, provenance: ["commit": "c0", "cpu": "elsewhere"])
        let (third, thirdLines) = try run(cache: "machine-3", commit: "c3")
        XCTAssertEqual(thirdLines.filter { $0.hasPrefix("train ") }.map { String($0.prefix { $0 != ":" }) },
                       ["train ar seed 2", "train mdm seed 2", "train refusion seed 2"])
        XCTAssertEqual(third.models.filter(\.isMaterialized).map(\.seed), [2, 2, 2])
        // the measured weights' record replaces the other run's, in the outcome and in the ledger
        XCTAssertTrue(thirdLines.contains { $0.hasPrefix("ar seed 2: this run's training took another path") }, "\(thirdLines)")
        XCTAssertEqual(third.models.first { $0.kind == "ar" && $0.seed == 2 }!.record.training.curve, ar2.record.training.curve)
        let replaced = try XCTUnwrap(ledger.entry(ar2.name, as: TrainingRecord.self))
        XCTAssertEqual(replaced.value.training.curve, ar2.record.training.curve)
        XCTAssertEqual(replaced.measuredBy["commit"], "c3")
        XCTAssertTrue(replaced.measuredBy["replaces"]?.hasPrefix("record by commit c0 on elsewhere") ?? false, "\(replaced.measuredBy)")
        XCTAssertFalse(thirdLines.contains { $0.hasPrefix("mdm seed 2: this run's training took another path") }, "same path: kept")
        XCTAssertEqual(third.runs[0], first.runs[0])
        XCTAssertEqual(third.measuredAt, ["c1", "c3"])
    }

    /// The weight store (`Plan.keepsWeights`, the long plan's `models/` beside its ledger): a run
    /// stopped mid-training leaves its snapshot there, a fresh machine continues from it and stores
    /// every finished model's weights, and a third fresh machine that must measure a seed again
    /// loads its weights instead of retraining them (and decodes exactly the same text), resuming the
    /// set from the finished passes another machine left in the store.
    func testTheWeightStoreCarriesWeightsAndSnapshotsToAFreshMachine() throws {
        var plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        plan.seeds = [1]; plan.learningRates = [3e-3]; plan.keepsWeights = true
        let data = try DecodeExperiment.standardData(plan: plan)
        let root = TestRequirement.tempDir("decode-weight-store")
        defer { try? FileManager.default.removeItem(at: root) }
        let ledger = ReportLedger(directory: root.appendingPathComponent("decode-long/ledger"))
        let store = root.appendingPathComponent("decode-long/models")
        struct Stop: Error {}
        func run(cache: String, stopAt: String? = nil) throws -> (DecodeExperiment.Outcome, [String]) {
            var lines: [String] = []
            let o = try DecodeExperiment(plan: plan, data: data, cacheDirectory: root.appendingPathComponent(cache), ledger: ledger,
                                         provenance: ["commit": cache, "dirty": "no"])
                .run(log: { lines.append($0) }, shouldStop: { if let stopAt, lines.contains(where: { $0.contains(stopAt) }) { throw Stop() } })
            return (o, lines)
        }
        func storeFiles() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: store.path)) ?? []).sorted() }
        XCTAssertThrowsError(try run(cache: "machine-1", stopAt: "ar seed 1 step 4/"))
        XCTAssertEqual(storeFiles().filter { $0.hasSuffix(".snapshot.safetensors") }.count, 1, "\(storeFiles())")
        XCTAssertFalse(storeFiles().contains { $0.hasPrefix("decode-ar-") && $0.hasSuffix("0.safetensors") && !$0.contains("snapshot") })

        let (second, lines) = try run(cache: "machine-2")
        XCTAssertTrue(lines.contains { $0.hasPrefix("train ar seed 1") && $0.hasSuffix("(continuing from its snapshot)") }, "\(lines)")
        XCTAssertFalse(storeFiles().contains { $0.contains("snapshot") }, "finished models leave no snapshot: \(storeFiles())")
        XCTAssertEqual(Set(storeFiles()), Set(second.models.map { "\($0.name).safetensors" }), "every finished model's weights")

        // the seed's measurements lost on a fresh machine: its models come from the store, none is trained
        let eval = DecodeModelCache.name("decode-eval", [second.models.first { $0.kind == "ar" }!.name,
                                                         second.models.first { $0.kind == "mdm" }!.name,
                                                         second.models.first { $0.kind == "refusion" }!.name,
                                                         second.models.first { $0.kind == DecodeExperiment.paperRecipeModel }!.name]
                                             + DecodeExperiment(plan: plan, data: data).evaluationRecipe)
        try FileManager.default.removeItem(at: try ledger.file(eval))
        // ... stopped inside it on another machine, which left its first finished pass in the store
        let arPass = try XCTUnwrap(second.runs[0].main.first { $0.decoder == DecodeExperiment.arDecoder && $0.task == "arithmetic" })
        let parts = store.appendingPathComponent("\(eval).parts.json")
        try JSONEncoder().encode(["main|\(DecodeExperiment.arDecoder)|arithmetic": EvaluationProgress.Part(result: arPass, samples: nil)])
            .write(to: parts)
        let (third, thirdLines) = try run(cache: "machine-3")
        XCTAssertTrue(thirdLines.contains("evaluate seed 1: resuming after 1 finished passes"), "\(thirdLines)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: parts.path), "removed once the set is stored")
        XCTAssertFalse(thirdLines.contains { $0.hasPrefix("train ") }, "\(thirdLines)")
        XCTAssertEqual(third.cacheComputed, 1, "only the measurement set")
        XCTAssertEqual(third.runs[0].textSamples, second.runs[0].textSamples, "the same weights decode the same text")
        XCTAssertEqual(third.runs[0].main.map(\.exactMatch), second.runs[0].main.map(\.exactMatch))
    }

    /// Training only (`prepare`, `meshctl report decode --train-seeds`): on a machine whose weights are
    /// lost, a second process makes one seed's models and measures nothing; the measuring run then loads
    /// them from the weight store instead of training them.
    func testPreparingASeedTrainsOnlyItsModelsAndTheMeasuringRunLoadsThem() throws {
        var plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        plan.seeds = [1, 2]; plan.learningRates = [3e-3]; plan.keepsWeights = true
        let data = try DecodeExperiment.standardData(plan: plan)
        let root = TestRequirement.tempDir("decode-prepare")
        defer { try? FileManager.default.removeItem(at: root) }
        let ledger = ReportLedger(directory: root.appendingPathComponent("decode-long/ledger"))
        let store = root.appendingPathComponent("decode-long/models")
        func experiment(_ cache: String) -> DecodeExperiment {
            DecodeExperiment(plan: plan, data: data, cacheDirectory: root.appendingPathComponent(cache), ledger: ledger,
                             provenance: ["commit": cache, "dirty": "no"])
        }
        let first = try experiment("machine-1").run()
        // a fresh machine: the weights and seed 2's measurements are gone, the training records stay
        try FileManager.default.removeItem(at: store)
        let seed2 = first.models.filter { $0.seed == 2 && $0.kind != DecodeExperiment.paperRecipeModel }
        let eval2 = DecodeModelCache.name("decode-eval", seed2.map(\.name) + ["-"] + experiment("x").evaluationRecipe)
        XCTAssertTrue(try ledger.contains(eval2), "seed 2's measurement set is named as evaluateSeed names it")
        try FileManager.default.removeItem(at: try ledger.file(eval2))
        XCTAssertThrowsError(try experiment("machine-2").prepare(seeds: [5])) {
            XCTAssertTrue("\($0)".contains("seed 5 is not a seed of plan 'quick'"), "\($0)")
        }

        XCTAssertThrowsError(try experiment("machine-2").prepare(seeds: [2], kinds: ["gpt"])) {
            XCTAssertTrue("\($0)".contains("model kind 'gpt' is not one of ar, mdm, refusion"), "\($0)")
        }
        func trained(_ lines: [String]) -> [String] {
            lines.filter { $0.hasPrefix("train ") }.map { String($0.prefix(while: { $0 != ":" })) }
        }

        // two processes split seed 2: AR and MDM in one, ReFusion (from the stored AR model) in the other
        var lines: [String] = []
        let made = try experiment("machine-2").prepare(seeds: [2], kinds: ["ar", "mdm"], log: { lines.append($0) })
        XCTAssertEqual(made.map(\.name), seed2.filter { $0.kind != "refusion" }.map(\.name))
        XCTAssertEqual(trained(lines), ["train ar seed 2", "train mdm seed 2"], "\(lines)")
        lines = []
        let refusion = try experiment("machine-2b").prepare(seeds: [2], kinds: ["refusion"], log: { lines.append($0) })
        XCTAssertEqual(refusion.map(\.name), seed2.filter { $0.kind == "refusion" }.map(\.name))
        XCTAssertEqual(trained(lines), ["train refusion seed 2"], "AR seed 2 comes from the store: \(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("evaluate") }, "nothing measured")
        XCTAssertFalse(try ledger.contains(eval2))
        let stored = try FileManager.default.contentsOfDirectory(atPath: store.path).sorted()
        XCTAssertEqual(stored, seed2.map { "\($0.name).safetensors" }.sorted())

        // measuring only seed 2 stores its set; the full run then computes nothing
        lines = []
        let sets = try experiment("machine-3").measure(seeds: [2], log: { lines.append($0) })
        XCTAssertEqual(sets.map(\.seed), [2])
        XCTAssertFalse(lines.contains { $0.hasPrefix("train ") }, "seed 2's models come from the store: \(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("evaluate seed 1") }, "seed 1 is not measured: \(lines)")
        XCTAssertTrue(try ledger.contains(eval2))
        let measured = try experiment("machine-4").run()
        XCTAssertEqual(measured.cacheComputed, 0, "every measurement set comes from the ledger")
        XCTAssertEqual(measured.runs[1].main.map(\.exactMatch), first.runs[1].main.map(\.exactMatch), "the same weights")
        XCTAssertEqual(measured.runs[1].textSamples, first.runs[1].textSamples)
    }

    /// Timings depend on the machine and the thread count, so they are part of a measurement set's
    /// name: another CPU or thread count measures every seed again instead of mixing tokens/s.
    func testMeasurementSetsAreNamedByCPUAndThreads() throws {
        let plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        let data = try DecodeExperiment.standardData(plan: plan)
        func recipe(_ provenance: [String: String]) -> [String] {
            DecodeExperiment(plan: plan, data: data, provenance: provenance).evaluationRecipe
        }
        let here = recipe(["cpu": "AMD EPYC", "threads": "1", "commit": "a"])
        XCTAssertEqual(here, recipe(["cpu": "AMD EPYC", "threads": "1", "commit": "b"]), "the commit does not rename the set")
        XCTAssertNotEqual(here, recipe(["cpu": "Intel(R) Xeon(R) Processor", "threads": "1"]))
        XCTAssertNotEqual(here, recipe(["cpu": "AMD EPYC", "threads": "2"]))
        XCTAssertEqual(here.last, "timed on AMD EPYC, 1 threads")
    }

    /// The quick plan with the longer tasks and the full fortunes corpus: trained on, evaluated
    /// for every decoder, and rendered in their own table.
    func testQuickPlanWithLongTasksAndFullCorpus() throws {
        try TestRequirement.require(FortuneCorpus.fullFiles().count > FortuneCorpus.defaultFiles.count,
                                    "fortunes", hint: "scripts/bootstrap installs the Debian package fortunes")
        var plan = try XCTUnwrap(DecodeExperiment.Plan.named("quick"))
        plan.extraTasks = [.longAddition, .sorting]; plan.corpus = .full
        plan.slotSweep = [4]; plan.thresholdSweep = [0.7]; plan.arithmeticTestCount = 2
        plan.trainExamplesPerTask = 500; plan.arSteps = 4; plan.mdmSteps = 4; plan.refusionSteps = 2
        plan.seeds = [1]; plan.learningRates = [3e-3]; plan.evalEvery = 2; plan.validationCount = 2
        plan.parameters.slotThreshold = 0; plan.parameters.tokenThreshold = 0   // whole blocks per forward: a fast wiring check
        let data = try DecodeExperiment.standardData(plan: plan)
        XCTAssertEqual(data.extra.map(\.task), [.longAddition, .sorting])
        XCTAssertGreaterThan(data.textTrain.count, 3000, "the full corpus")
        XCTAssertEqual(Set(data.validation.map(\.task)), [.arithmetic, .text, .longAddition, .sorting])
        let o = try DecodeExperiment(plan: plan, data: data).run()
        for task in ["longAddition", "sorting"] {
            let rows = o.runs[0].main.filter { $0.task == task }
            XCTAssertEqual(rows.count, 6, task)
            for r in rows {
                XCTAssertEqual(r.examples, plan.arithmeticTestCount, "\(task) \(r.decoder)")
                XCTAssertGreaterThan(r.forwards, 0)
                XCTAssertLessThanOrEqual(r.exactResponse, r.exactMatch + 1e-12, "a whole-response match is an answer match")
            }
        }
        let md = DecodeReportRenderer.markdown(o)
        XCTAssertTrue(md.contains("Debian package `fortunes`"))
        XCTAssertTrue(md.contains("## Longer exact-match tasks"))
        XCTAssertTrue(md.contains("| ReFusion | long addition (3-4 digits, step by step) |"))
        XCTAssertTrue(md.contains("| MDM (LLaDA-style) | sorting (12-20 two-digit numbers) |"))
        XCTAssertTrue(md.contains("- Accuracy, ReFusion vs masked diffusion, sorting"))
        // Accuracy-throughput curves and speed at matched quality on every exact-match task.
        let sum = DecodeSummary(o)
        XCTAssertEqual(sum.curveTasks, ["arithmetic", "longAddition", "sorting"])
        for task in sum.curveTasks {
            XCTAssertEqual(sum.curve(DecodeExperiment.refusionDecoder, task: task).map(\.threshold), plan.thresholdSweep, task)
            XCTAssertEqual(sum.curve(DecodeExperiment.arDecoder, task: task).count, 1, task)
            XCTAssertTrue(md.contains("- Operating point, \(task): "), task)
            XCTAssertTrue(md.contains("### \(task)\n"), task)
        }
    }
}
