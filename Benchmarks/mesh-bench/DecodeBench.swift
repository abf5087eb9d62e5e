import ComputeCore
import Foundation
import Logging
import MeshKit
import MeshProto
import ReFusion
import RunStore

/// `mesh-bench decode`: tokens/s and tokens per forward of the AR, masked-diffusion and
/// ReFusion decoders on one held-out exact-match task (one stream, in process), then the
/// throughput of 2 decode-svc processes over 1 on one RabbitMQ queue (competing consumers),
/// whose requests are that task's prompts.
///
/// Options: --models DIR (trained ar/mdm/refusion models; default: train bench models now),
/// --problems N (held-out problems, default 100), --requests N (per replica measurement,
/// default 48), --concurrency C (outstanding requests, default 8), --plan quick|standard|long
/// (the experiment plan whose data, model size and schedules the bench uses; default standard),
/// --task arithmetic|longAddition|sorting (default: the plan's longest-answer task, `longAddition`
/// in `long` — 64-128-token answers — else `arithmetic`).
enum DecodeBench {
    static func run(arguments: [String]) async throws {
        var modelsDir: String?
        var problems = 100, requests = 48, concurrency = 8, repetitions = 5, rounds = 3
        var planName = "standard"
        var taskName: String?
        var i = 0
        while i < arguments.count {
            func value() throws -> String {
                guard i + 1 < arguments.count else { throw ValidationFailureBench("\(arguments[i]) needs a value") }
                i += 1
                return arguments[i]
            }
            switch arguments[i] {
            case "--models": modelsDir = try value()
            case "--problems": problems = Int(try value()) ?? problems
            case "--requests": requests = Int(try value()) ?? requests
            case "--concurrency": concurrency = Int(try value()) ?? concurrency
            case "--plan": planName = try value()
            case "--repetitions": repetitions = Int(try value()) ?? repetitions
            case "--rounds": rounds = Int(try value()) ?? rounds
            case "--task": taskName = try value()
            default:
                throw ValidationFailureBench("unknown option \(arguments[i]); use --models DIR --problems N --requests N --concurrency C "
                                             + "--plan quick|standard|long --task arithmetic|longAddition|sorting --repetitions N --rounds N")
            }
            i += 1
        }
        guard (1...2000).contains(problems), (2...10_000).contains(requests), (1...256).contains(concurrency),
              (5...100).contains(repetitions), (3...20).contains(rounds) else {
            throw ValidationFailureBench("--problems must be 1...2000, --requests 2...10000, --concurrency 1...256, --repetitions 5...100, --rounds 3...20")
        }
        ServiceMain.bootstrapLogging(level: .warning)
        Threads.configure(1)

        // Models: given, or trained now with the bench plan (small preset, short schedules).
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mesh-bench-decode-\(getpid())")
        let artifacts = tmp.appendingPathComponent("artifacts")
        let models = artifacts.appendingPathComponent("models/decode")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        guard var plan = DecodeExperiment.Plan.named(planName) else {
            throw ValidationFailureBench("--plan must be one of \(DecodeExperiment.Plan.names.joined(separator: ", "))")
        }
        let task = try benchTask(taskName, plan: plan)
        plan.arithmeticTestCount = problems
        let data = try DecodeExperiment.standardData(plan: plan)
        let examples = data.test(task)
        var loaded: [String: TransformerLM] = [:]
        if let modelsDir {
            for name in ["ar", "mdm", "refusion"] {
                let src = URL(fileURLWithPath: modelsDir).appendingPathComponent("\(name)/model.safetensors")
                loaded[name] = try TransformerLM.load(from: src.path)
            }
            print("decode bench: models from \(modelsDir)")
        } else {
            print("decode bench: training bench models (\(plan.modelPreset), AR \(plan.arSteps / 2), MDM \(plan.mdmSteps / 2), ReFusion \(plan.refusionSteps / 2) steps)")
            let exp = DecodeExperiment(plan: plan, data: data)
            let ar = exp.train(.ar, steps: plan.arSteps / 2)
            loaded["ar"] = ar
            loaded["mdm"] = exp.train(.mdm, steps: plan.mdmSteps / 2)
            loaded["refusion"] = exp.train(.refusion, steps: plan.refusionSteps / 2, initial: ar)
        }
        for (name, m) in loaded {
            let dir = models.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try m.save(to: dir.appendingPathComponent("model.safetensors").path, extra: ["objective": name])
        }

        // Decoders in process on the held-out task.
        let maxTokens = data.responseBudget(task)
        print("decode bench: task \(task.rawValue), \(examples.count) held-out problems, at most \(maxTokens) tokens per answer")
        var figures: [String: Double] = [:]
        for (key, mode) in [("ar", DecodeMode.ar), ("mdm", .mdm), ("refusion", .refusion)] {
            let d = DecoderUnderTest(name: key, mode: mode, model: loaded[key]!, parameters: plan.parameters)
            _ = DecodeEvaluation.exactMatch(d, task: task, examples: Array(examples.prefix(5)), maxTokens: maxTokens) // warm-up
            let reps = (0..<repetitions).map { _ in DecodeEvaluation.exactMatch(d, task: task, examples: examples, maxTokens: maxTokens) }
            let speeds = reps.map(\.tokensPerSecond).sorted()
            var r = reps[0]                        // greedy decoding: every repetition gives the same tokens
            r.seconds = Double(r.generatedTokens) / median(speeds)
            print(String(format: "%-9@ exact match %5.1f %%  %8.0f tok/s (median of %d; %0.f-%0.f)  %5.2f tok/forward  (%d problems, %d tokens, %d forwards)",
                         key, 100 * r.exactMatch, r.tokensPerSecond, repetitions, speeds.first!, speeds.last!, r.tokensPerForward,
                         r.examples, r.generatedTokens, r.forwards))
            figures["\(key)_tok_per_s"] = r.tokensPerSecond
            figures["\(key)_tok_per_forward"] = r.tokensPerForward
            figures["\(key)_exact_match"] = r.exactMatch
            figures["\(key)_unverified_commits"] = Double(r.unverifiedCommits)
            figures["\(key)_below_threshold_commits"] = Double(r.belowThresholdCommits)
        }

        // Replicas through RabbitMQ.
        let env = ProcessInfo.processInfo.environment
        var replicas: DecodeReplicaBench.Figures?
        if let amqp = env["MESH_AMQP_URL"], !amqp.isEmpty, let db = env["MESH_DATABASE_URL"], !db.isEmpty {
            replicas = try await DecodeReplicaBench(amqp: amqp, database: db, artifacts: artifacts, task: task,
                                                    prompts: examples.map(\.promptText), maxTokens: maxTokens, plan: plan,
                                                    requests: requests, concurrency: concurrency, rounds: rounds, log: tmp).run()
        } else {
            print("replicas: skipped (set MESH_AMQP_URL and MESH_DATABASE_URL: eval \"$(scripts/stack up)\")")
        }
        var json: [String: Any] = [
            "ar_tok_per_s": figures["ar_tok_per_s"]!, "mdm_tok_per_s": figures["mdm_tok_per_s"]!,
            "refusion_tok_per_s": figures["refusion_tok_per_s"]!,
            "refusion_tok_per_forward": figures["refusion_tok_per_forward"]!,
            "ar_tok_per_forward": figures["ar_tok_per_forward"]!, "mdm_tok_per_forward": figures["mdm_tok_per_forward"]!,
            "ar_exact_match": figures["ar_exact_match"]!, "mdm_exact_match": figures["mdm_exact_match"]!,
            "refusion_exact_match": figures["refusion_exact_match"]!,
            // tokens committed without a causal check (0 for the faithful default) / by an "at least one" fallback
            "refusion_unverified_commits": figures["refusion_unverified_commits"]!,
            "refusion_below_threshold_commits": figures["refusion_below_threshold_commits"]!,
            "mdm_below_threshold_commits": figures["mdm_below_threshold_commits"]!,
        ]
        json["repetitions"] = repetitions
        json["task"] = task.rawValue
        json["plan"] = plan.name
        json["replicas2_over_1"] = replicas.map { $0.ratio as Any } ?? NSNull()
        json["replicas2_over_1_rounds"] = replicas.map { $0.roundRatios as Any } ?? NSNull()
        json["replicas_projection"] = replicas.map { r in
            Dictionary(uniqueKeysWithValues: r.projection.map { (String($0.key), $0.value) }) as Any } ?? NSNull()
        json["replicas_projection_model"] = replicas.map { $0.model as Any } ?? NSNull()
        let out = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: out, as: UTF8.self))
    }

    /// The task named by `--task`, or the plan's default: its longest-answer exact-match task.
    /// Refuses a name that is no exact-match task, or a task the plan's data do not hold.
    static func benchTask(_ name: String?, plan: DecodeExperiment.Plan) throws -> SequenceExample.Task {
        guard let name else { return plan.extraTasks.contains(.longAddition) ? .longAddition : .arithmetic }
        guard let task = SequenceExample.Task(rawValue: name), task != .text else {
            throw ValidationFailureBench("--task must be arithmetic, longAddition or sorting (got \(name))")
        }
        guard task == .arithmetic || plan.extraTasks.contains(task) else {
            throw ValidationFailureBench("--task \(name): plan \(plan.name) holds no such task (its tasks: arithmetic"
                                         + plan.extraTasks.map { ", \($0.rawValue)" }.joined() + ")")
        }
        return task
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
