import ArgumentParser
import Foundation
import MeshKit

/// `meshctl report reliability`: a chaos run against the stack (see `ChaosRun`), written to
/// docs/results/reliability.md (+ reliability.json). Needs MESH_AMQP_URL / MESH_DATABASE_URL
/// from `scripts/stack up` and the built service executables (`scripts/chaos` does all of it).
struct ReportReliabilityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reliability",
        abstract: "Chaos under load (kills, broker and database restarts); write docs/results/reliability.md.")

    @Option(help: "Seconds of load (faults in the middle 60%).") var seconds: Double = ChaosPlan.long.seconds
    @Option(help: "Seconds between SIGKILLs of a random worker.") var killEvery: Double = ChaosPlan.long.killEvery
    @Option(help: "Concurrent clients.") var concurrency: Int = ChaosPlan.long.concurrency
    @Option(help: "Seed of the request mix and the kill schedule.") var seed: UInt64 = 1
    @Option(help: "Output directory.") var output = "docs/results"
    @Option(help: "Folder for service logs and the shared artifact directory.") var workDir = ".latentmesh/chaos"

    func validate() throws {
        guard (10...86_400).contains(seconds) else { throw ValidationError("--seconds must be in 10...86400") }
        guard killEvery >= 1 else { throw ValidationError("--kill-every must be at least 1 s") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be in 1...64") }
    }

    func run() async throws {
        var plan = ChaosPlan.long
        plan.seconds = seconds; plan.killEvery = killEvery; plan.concurrency = concurrency; plan.seed = seed
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let work = URL(fileURLWithPath: workDir).appendingPathComponent(String(Int(Date().timeIntervalSince1970)))
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let chaos = try ChaosRun(plan: plan, binDir: binDir, repoRoot: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                                 workDir: work)
        let result = try await chaos.run { FileHandle.standardError.write(Data("[chaos] \($0)\n".utf8)) }
        print(result.summary)
        let out = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(result).write(to: out.appendingPathComponent("reliability.json"))
        let date = ISO8601DateFormatter().string(from: Date())
        let machine = "\(ProcessInfo.processInfo.operatingSystemVersionString), \(ProcessInfo.processInfo.processorCount) cores, "
            + "\(ProcessInfo.processInfo.physicalMemory / (1 << 30)) GiB"
        var command = "meshctl report reliability --seconds \(Int(seconds)) --kill-every \(Int(killEvery)) --concurrency \(concurrency)"
        if seed != 1 { command += " --seed \(seed)" }
        let md = result.markdown(command: command, commit: GitInfo.commit, dirty: GitInfo.isDirty, date: date, machine: machine)
        try md.write(to: out.appendingPathComponent("reliability.md"), atomically: true, encoding: .utf8)
        print("wrote \(out.appendingPathComponent("reliability.md").path)")
        if !result.passed { throw ExitCode(1) }
    }
}
