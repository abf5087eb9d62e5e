import ArgumentParser
import Foundation
import Logging
import MeshKit

/// The LatentMesh command line: run the mesh, describe it, inspect and watch runs.
public struct MeshCtl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "meshctl",
        abstract: "Run and inspect LatentMesh: five image-generation services over RabbitMQ (or in-process).",
        subcommands: [
            UpCommand.self, DescribeCommand.self, PingCommand.self, RunsCommand.self, ModelsCommand.self, WatchCommand.self,
            CancelCommand.self, DeadLettersCommand.self,
            DataCommand.self, EvalCommand.self, EmbedTextCommand.self,
            ReportCommand.self, TokenizerCommand.self, DecodeCommand.self,
            GeneratorCommand.self, GenerateCommand.self, PersonalizeCommand.self, DistillCommand.self,
        ])

    public init() {}

    /// Entry point used by the meshctl executable.
    public static func entry() async {
        ServiceMain.bootstrapLogging(level: Logger.Level(rawValue: ProcessInfo.processInfo.environment["MESH_LOG_LEVEL"] ?? "warning") ?? .warning)
        MeshMetrics.bootstrap()
        await main()
    }
}
