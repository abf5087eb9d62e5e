import Datasets
import Foundation
import MeshKit
import MeshProto
import RunStore
import SwiftProtobuf

/// `meshctl report distill`: the teacher at 28 steps with guidance against sCM and MeanFlow
/// students at 1, 2 and 4 steps on the same prompts and seeds (gFD, attribute accuracy, ms per
/// image), the ×1 vs ×1000 time-input ablation with gradient-norm curves, and a side-by-side
/// sample grid. Everything runs through an embedded mesh whose store lives in the report cache
/// (`<cache>/<plan>-<distill source hash>`), so a second run reuses the trained models.
public enum DistillReport {
    /// Trains what the cache lacks, evaluates, and writes `distill.md` + figures under `outputDir`.
    @discardableResult
    public static func run(plan: DistillReportPlan, outputDir: URL, cacheDir: URL,
                           log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) async throws
        -> DistillReportOutcome {
        let source = try ReportProvenance.sourceHash(of: "Services/distill-svc")
        var options = ConnectionOptions()
        options.embedded = true
        options.home = cacheDir.appendingPathComponent("\(plan.name)-\(source.prefix(16))").path
        let provenance = ReportProvenance.current()
        let t0 = Date()
        var outcome = try await MeshSession.with(options) { session in
            try await Runner(plan: plan, session: session, log: log).run()
        }
        outcome.provenance = provenance.dictionary
        outcome.seconds = Date().timeIntervalSince(t0)
        try DistillReportRenderer.write(outcome, to: outputDir)
        log("wrote \(outputDir.appendingPathComponent("distill.md").path)")
        return outcome
    }

    /// One report run against an open session.
    struct Runner {
        let plan: DistillReportPlan
        let session: MeshSession
        let log: (String) -> Void

        func call<Req: MeshRequest, Resp: SwiftProtobuf.Message>(_ key: String, _ req: Req, as: Resp.Type) async throws
            -> MeshClient.Answer<Resp> {
            try await session.client.call(key, req, as: Resp.self, timeout: .seconds(7 * 86_400))
        }

        /// The run that produced the registered model `name`, or nil when it must be trained.
        func existing(_ name: String) throws -> String? {
            guard let rec = try session.store.model(name: name) else { return nil }
            log("reusing \(name) (\(rec.kind), run \(rec.runID ?? "?"))")
            return rec.runID ?? ""
        }

        func run() async throws -> DistillReportOutcome {
            var out = DistillReportOutcome(plan: plan)
            // 1. The teacher: a tokenizer and a FlowGen generator on its latents.
            if try existing(plan.tokenizerName) == nil {
                log("training tokenizer \(plan.tokenizerPreset) (\(plan.tokenizerSteps) steps)")
                var t = Latentmesh_V1_TokenizerTrainRequest()
                t.preset = plan.tokenizerPreset; t.steps = plan.tokenizerSteps; t.seed = plan.seed; t.checkpointName = plan.tokenizerName
                _ = try await call("tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self)
            }
            if try existing(plan.teacherName) == nil {
                log("training teacher \(plan.generatorPreset) (\(plan.generatorSteps) steps)")
                var g = Latentmesh_V1_GeneratorTrainRequest()
                g.preset = plan.generatorPreset; g.tokenizerCheckpoint = plan.tokenizerName; g.steps = plan.generatorSteps
                g.seed = plan.seed; g.modelName = plan.teacherName; g.trainLimit = plan.generatorTrainLimit
                _ = try await call("generator.train", g, as: Latentmesh_V1_GeneratorTrainResult.self)
            }
            // 2. Students: both methods at both time-input scales; their gradient-norm curves.
            for method in plan.methods {
                for scale in plan.timeScales {
                    out.curves.append(try await student(method: method, scale: scale))
                }
            }
            // 3. The table: every trained student at every step count, the teacher once, same prompts and seeds.
            var teacherDone = false
            for curve in out.curves where curve.failure == nil {
                var e = Latentmesh_V1_DistillEvaluateRequest()
                e.studentName = plan.studentName(curve.method, scale: curve.scale); e.steps = plan.studentSteps
                e.seed = plan.seed; e.images = plan.evalImages; e.includeTeacher = !teacherDone
                e.teacherSteps = plan.teacherSteps; e.evaluator = plan.evaluator
                log("evaluating \(e.studentName) at \(plan.studentSteps.map(String.init).joined(separator: ", ")) steps" +
                    (teacherDone ? "" : " and the teacher at \(plan.teacherSteps)") + " on \(plan.evalImages) images")
                let r = try await call("distill.evaluate", e, as: Latentmesh_V1_DistillEvaluateResult.self).response
                teacherDone = true
                out.referenceDataset = r.referenceDataset; out.referenceImages = Int(r.referenceImages); out.images = Int(r.images)
                for row in r.rows {
                    out.rows.append(DistillReportOutcome.Row(label: row.label, model: row.modelName,
                                                             method: row.role == "teacher" ? "teacher" : curve.method,
                                                             scale: row.role == "teacher" ? 1 : curve.scale, steps: Int(row.steps),
                                                             guidance: row.guidance, metrics: row.metrics))
                }
            }
            // 4. Side-by-side samples through generator.generate (the serving path).
            out.grid = try await grid(guidance: out.rows.first { $0.method == "teacher" }?.guidance ?? 3)
            return out
        }

        /// Trains (or reuses) one student; its curve from the training run's progress events.
        func student(method: String, scale: Float) async throws -> DistillReportOutcome.Curve {
            let name = plan.studentName(method, scale: scale)
            var curve = DistillReportOutcome.Curve(method: method, scale: scale)
            var runID = try existing(name)
            if runID == nil {
                log("distilling \(name) (\(plan.distillPreset), \(plan.distillSteps) steps)")
                var d = Latentmesh_V1_DistillTrainRequest()
                d.method = method; d.teacherModel = plan.teacherName; d.studentName = name; d.preset = plan.distillPreset
                d.steps = plan.distillSteps; d.timeInputScale = scale; d.seed = plan.seed; d.dataCount = plan.distillData
                d.meta.requestID = UUID().uuidString.lowercased()
                do {
                    runID = try await call("distill.train", d, as: Latentmesh_V1_DistillTrainResult.self).reply.runID
                } catch let e as ServiceError {
                    // A diverging run (non-finite loss) is a finding of the ablation, not a report failure.
                    curve.failure = e.message
                    try session.store.flush()
                    runID = try session.store.run(requestID: d.meta.requestID)?.runID
                    log("\(name) failed: \(e.message)")
                }
            }
            if let runID, !runID.isEmpty {
                try session.store.flush()
                for e in try session.store.events(runID: runID, limit: 100_000) where e.type == "progress" {
                    guard let obj = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any],
                          let step = obj["step"] as? Int, let m = obj["metrics"] as? [String: Double], let g = m["grad_norm"] else { continue }
                    curve.points.append((step, g, m["loss"] ?? .nan))
                }
            }
            return curve
        }

        /// Teacher (28 steps, guidance) and each ×1 student at each step count on the grid prompts, one image each.
        func grid(guidance: Float) async throws -> DistillReportOutcome.Grid {
            var rows: [(String, [ImageBuffer])] = []
            var configs: [(label: String, model: String, steps: Int32)] = [("teacher \(plan.teacherSteps)", plan.teacherName, plan.teacherSteps)]
            for method in plan.methods where try session.store.model(name: plan.studentName(method, scale: 1)) != nil {
                for k in plan.studentSteps { configs.append(("\(method) \(k)", plan.studentName(method, scale: 1), k)) }
            }
            for c in configs {
                var g = Latentmesh_V1_GenerateRequest()
                g.modelName = c.model; g.prompts = plan.gridPrompts; g.n = 1; g.seed = plan.seed; g.steps = c.steps; g.guidance = guidance
                let r = try await call("generator.generate", g, as: Latentmesh_V1_GenerateResponse.self).response
                rows.append((c.label, try r.images.map { try PNGCodec.decode([UInt8]($0.png)) }))
            }
            return DistillReportOutcome.Grid(rows: rows, prompts: plan.gridPrompts, seed: plan.seed, guidance: guidance)
        }
    }
}

/// Everything the report shows.
public struct DistillReportOutcome {
    /// Gradient norms (before clipping) and losses of one student's training run.
    public struct Curve {
        public var method: String
        public var scale: Float
        public var points: [(step: Int, gradNorm: Double, loss: Double)] = []
        /// Why the run did not finish (e.g. a non-finite loss), if it did not.
        public var failure: String?
        public init(method: String, scale: Float, points: [(step: Int, gradNorm: Double, loss: Double)] = [], failure: String? = nil) {
            self.method = method; self.scale = scale; self.points = points; self.failure = failure
        }
    }
    /// One row of the table: the teacher or a student at one step count.
    public struct Row {
        public var label: String
        public var model: String
        /// "teacher" | "scm" | "meanflow"
        public var method: String
        public var scale: Float
        public var steps: Int
        public var guidance: Float
        public var metrics: [String: Double]
        public init(label: String, model: String, method: String, scale: Float, steps: Int, guidance: Float, metrics: [String: Double]) {
            self.label = label; self.model = model; self.method = method; self.scale = scale; self.steps = steps
            self.guidance = guidance; self.metrics = metrics
        }
    }
    public struct Grid {
        public var rows: [(label: String, images: [ImageBuffer])]
        public var prompts: [String]
        public var seed: UInt64
        public var guidance: Float
    }

    public var plan: DistillReportPlan
    public var provenance: [String: String] = [:]
    public var curves: [Curve] = []
    public var rows: [Row] = []
    public var grid: Grid?
    public var referenceDataset = ""
    public var referenceImages = 0
    public var images = 0
    public var seconds = 0.0

    public init(plan: DistillReportPlan) { self.plan = plan }
}
