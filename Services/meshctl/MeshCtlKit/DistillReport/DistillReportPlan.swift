import Foundation

/// What `meshctl report distill` trains and measures, by name: `quick` (about a minute; the
/// smoke test runs it) and `standard` (the committed report). Everything is trained through the
/// embedded mesh (tokenizer.train, generator.train, distill.train) and scored by
/// distill.evaluate, so the report measures exactly what the services serve.
public struct DistillReportPlan: Sendable, Equatable {
    public var name: String
    // The teacher and its tokenizer.
    public var tokenizerPreset: String
    public var tokenizerSteps: Int64
    public var generatorPreset: String
    public var generatorSteps: Int64
    /// Training images of the generator (0 = the whole train part).
    public var generatorTrainLimit: Int64
    // The students: both methods at both time-input scales.
    public var distillPreset: String
    public var distillSteps: Int64
    /// Teacher samples used as x0 data (0 = the preset's).
    public var distillData: Int32
    public var methods = ["scm", "meanflow"]
    public var timeScales: [Float] = [1, 1000]
    // The comparison.
    public var studentSteps: [Int32] = [1, 2, 4]
    public var teacherSteps: Int32 = 28
    /// Images per row of the table (the same prompts and seeds in every row).
    public var evalImages: Int32
    /// distill.evaluate's evaluator setting ("quick" | "standard").
    public var evaluator: String
    /// Prompts of the side-by-side sample grid (one image each, seed `seed`).
    public var gridPrompts = ["a red dress", "a blue sneaker", "a green bag", "a yellow t-shirt",
                              "a purple coat", "an orange ankle boot", "a pink sandal", "a cyan pullover"]
    public var seed: UInt64 = 0

    public static let names = ["quick", "standard"]

    public static func named(_ name: String) -> DistillReportPlan? {
        switch name {
        case "quick":
            return DistillReportPlan(name: name, tokenizerPreset: "vtp-fmnistc32-xs", tokenizerSteps: 2, generatorPreset: "flowgen-xs",
                                     generatorSteps: 3, generatorTrainLimit: 16, distillPreset: "distill-xs", distillSteps: 3,
                                     distillData: 4, evalImages: 16, evaluator: "quick")
        case "standard":
            return DistillReportPlan(name: name, tokenizerPreset: "vtp-fmnistc32-s", tokenizerSteps: 600, generatorPreset: "flowgen-s",
                                     generatorSteps: 800, generatorTrainLimit: 0, distillPreset: "distill-s", distillSteps: 400,
                                     distillData: 1024, evalImages: 1000, evaluator: "standard")
        default:
            return nil
        }
    }

    /// Registry names in the report's own store, derived from the training recipe
    /// (`ReportModelNames`): a changed plan trains new models rather than reusing the old ones.
    public var tokenizerName: String {
        ReportModelNames.tokenizer("report-tokenizer", preset: tokenizerPreset, steps: Int(tokenizerSteps), seed: seed)
    }
    public var teacherName: String {
        ReportModelNames.generator("report-teacher", preset: generatorPreset, steps: Int(generatorSteps),
                                   trainLimit: Int(generatorTrainLimit), seed: seed, tokenizer: tokenizerName)
    }
    public func studentName(_ method: String, scale: Float) -> String {
        ReportModelNames.name("report-\(method)-x\(Int(scale))",
                              ["student", distillPreset, String(distillSteps), String(distillData), String(seed), teacherName])
    }
}
