import ArgumentParser
import Foundation
import MeshKit
import MeshProto

/// `meshctl distill train|eval` (distill-svc).
public struct DistillCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "distill", abstract: "Few-step students (sCM, MeanFlow) of a registered generator.",
        subcommands: [DistillTrainCommand.self, DistillEvalCommand.self])
    public init() {}
}

/// Sends `distill.train` and shows a progress bar until the run ends.
struct DistillTrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Distil a registered generator into a 1-4-step student.")
    @Option(help: "Registered generator model to distil.") var teacher: String
    @Option(help: "scm | meanflow.") var method = "scm"
    @Option(help: "Preset: distill-xs | distill-s.") var preset = "distill-s"
    @Option(help: "Optimiser steps (0 = the preset's).") var steps: Int64 = 0
    @Option(help: "Time-input scale of the student: 1 or 1000.") var timeScale: Float = 1
    @Option(help: "Sampling steps the student serves with, 1-4 (0 = method default).") var sampleSteps: Int32 = 0
    @Option(help: "Teacher guidance distilled in (0 = 3).") var guidance: Float = 0
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Student name (default: <teacher>-<method>).") var name: String?
    @Flag(help: "Continue the student registered under the name.") var resume = false
    @Option(help: "Request id (idempotency key); default a fresh one.") var requestID: String?
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        guard ["scm", "meanflow"].contains(method) else { throw ValidationError("--method must be scm or meanflow, got \(method)") }
        guard [1, 1000].contains(timeScale) else { throw ValidationError("--time-scale must be 1 or 1000, got \(timeScale)") }
        guard (0...4).contains(sampleSteps) else { throw ValidationError("--sample-steps must be in 1...4 (0 = default), got \(sampleSteps)") }
        let session = try await MeshSession.open(connection)
        var req = Latentmesh_V1_DistillTrainRequest()
        req.teacherModel = teacher; req.method = method; req.preset = preset; req.steps = steps
        req.timeInputScale = timeScale; req.sampleSteps = sampleSteps; req.guidance = guidance; req.seed = seed
        req.studentName = name ?? ""; req.resume = resume
        req.meta.requestID = requestID ?? UUID().uuidString.lowercased()
        do {
            let a = try await session.callFollowing("distill.train", req, as: Latentmesh_V1_DistillTrainResult.self)
            let m = a.response.finalMetrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4g", $0.value))" }
            print("run \(a.reply.runID): \(a.response.method) student '\(a.response.studentName)' of '\(a.response.teacherModel)' sha256 \(a.response.checkpoint.sha256) after \(a.response.steps) steps")
            print("final: " + m.joined(separator: " "))
        } catch {
            print("distill.train: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        await session.close()
    }
}
