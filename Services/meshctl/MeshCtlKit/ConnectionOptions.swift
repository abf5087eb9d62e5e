import ArgumentParser
import Foundation

/// Where meshctl's mesh lives: embedded by default; a stack with --amqp/--db or the
/// MESH_AMQP_URL / MESH_DATABASE_URL environment variables.
public struct ConnectionOptions: ParsableArguments {
    @Option(help: "RabbitMQ URL of a running stack (default: $MESH_AMQP_URL; unset = embedded mode).")
    public var amqp: String?

    @Option(help: "PostgreSQL URL of the stack's audit store (default: $MESH_DATABASE_URL).")
    public var db: String?

    @Flag(help: "Use the embedded mesh even when MESH_AMQP_URL is set.")
    public var embedded = false

    @Option(help: "Folder for the embedded store and artifacts.")
    public var home: String = ProcessInfo.processInfo.environment["MESH_HOME"] ?? ".latentmesh"

    public init() {}

    var env: [String: String] { ProcessInfo.processInfo.environment }

    public var resolvedAMQP: String? {
        if embedded { return nil }
        return amqp ?? env["MESH_AMQP_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public var resolvedDB: String? {
        db ?? env["MESH_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Prints JSON of a dictionary/array with sorted keys.
func printJSON(_ object: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    print(String(decoding: data, as: UTF8.self))
}
