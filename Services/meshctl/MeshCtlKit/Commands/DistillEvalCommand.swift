import ArgumentParser
import Foundation
import MeshKit
import MeshProto

/// `meshctl distill eval STUDENT [--steps 1,2,4] [--images 1000] [--teacher]`: sends
/// `distill.evaluate` and prints one line per row (gFD ± std, accuracies, ms per image).
struct DistillEvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Score a student (and its teacher) by gFD, attribute accuracy and ms per image on the same prompts and seeds.")
    @Argument(help: "Registered student.") var student: String
    @Option(help: "Student steps, comma separated (each 1-4).") var steps = "1,2,4"
    @Option(help: "Images per row (2-10000).") var images: Int32 = 1000
    @Flag(help: "Also score the teacher (Euler, --teacher-steps, the guidance the student distilled).") var teacher = false
    @Option(help: "Teacher steps.") var teacherSteps: Int32 = 28
    @Option(help: "Seed: prompt order and image i's noise (seed + i).") var seed: UInt64 = 0
    @Option(help: "Evaluator setting: standard or quick.") var evaluator = "standard"
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let parsed = steps.split(separator: ",").map { Int32($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil && (1...4).contains($0!) }) else {
            throw ValidationError("--steps must be comma-separated numbers in 1...4, got '\(steps)'")
        }
        let session = try await MeshSession.open(connection)
        var req = Latentmesh_V1_DistillEvaluateRequest()
        req.studentName = student; req.steps = parsed.map { $0! }; req.images = images; req.includeTeacher = teacher
        req.teacherSteps = teacherSteps; req.seed = seed; req.evaluator = evaluator
        do {
            let a = try await session.callFollowing("distill.evaluate", req, as: Latentmesh_V1_DistillEvaluateResult.self)
            let r = a.response
            if json {
                printJSON(["run_id": a.reply.runID, "student": r.studentName, "teacher": r.teacherModel, "method": r.method,
                           "images": Int(r.images), "reference_dataset": r.referenceDataset, "reference_images": Int(r.referenceImages),
                           "metrics": r.metrics])
            } else {
                print("run \(a.reply.runID): \(r.method) student '\(r.studentName)' of '\(r.teacherModel)', \(r.images) images per row " +
                      "vs \(r.referenceImages) real \(r.referenceDataset) images")
                for row in r.rows {
                    let m = row.metrics
                    func v(_ k: String, _ p: Int = 3) -> String { m[k].map { String(format: "%.\(p)f", $0) } ?? "n/a" }
                    print("\(row.label.padding(toLength: 10, withPad: " ", startingAt: 0)) \(row.sampler) \(row.steps) steps, guidance \(row.guidance): " +
                          "gFD \(v("gfd", 2)) ± \(v("gfd_std", 2)), class \(v("class_accuracy")) [\(v("class_accuracy_low")), \(v("class_accuracy_high"))], " +
                          "colour \(v("color_accuracy")) [\(v("color_accuracy_low")), \(v("color_accuracy_high"))], " +
                          "\(v("ms_per_image", 1)) ms/image (\(v("ms_per_image_min", 1))-\(v("ms_per_image_max", 1)))")
                }
            }
        } catch {
            print("distill.evaluate: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        await session.close()
    }
}
