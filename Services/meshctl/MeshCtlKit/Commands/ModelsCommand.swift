import ArgumentParser
import Foundation
import MeshKit
import RunStore

/// `meshctl models list|show|rm`: the model registry (the store's `models` table), the same
/// in embedded mode (SQLite under --home) and stack mode (PostgreSQL).
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List, show and remove registered models.",
        subcommands: [List.self, Show.self, Remove.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered models, newest first.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Only models of this service.") var service: String?
        @Option(help: "Only this kind (e.g. vtp-tokenizer, decode-ar).") var kind: String?
        @Option(help: "At most this many (1...10000).") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit \(limit) is out of range 1...10000") }
        }

        func run() async throws {
            let store = try openStore(connection)
            defer { store.close() }
            let models = try store.listModels(ModelQuery(service: service, kind: kind, limit: limit))
            if json { printJSON(models.map(modelJSON)); return }
            print(pad("NAME", 24) + pad("SERVICE", 12) + pad("KIND", 18) + pad("SIZE", 12) + pad("SHA256", 14)
                  + pad("CREATED", 22) + "PARENTS")
            for m in models {
                print(pad(m.name, 24) + pad(m.service, 12) + pad(m.kind, 18) + pad(String(m.size), 12)
                      + pad(String(m.sha256.prefix(12)), 14) + pad(iso(m.createdAt), 22) + m.parents.joined(separator: ","))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one model: checkpoint, resolved config, parents, run.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Model name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try openStore(connection)
            defer { store.close() }
            guard let m = try store.model(name: name) else { throw ValidationFailure("no model named '\(name)' (see `meshctl models list`)") }
            let obj = modelJSON(m)
            if json { printJSON(obj); return }
            for key in obj.keys.sorted() where key != "config" { print(pad(key, 12) + "\(obj[key]!)") }
            print("config:")
            printJSON(obj["config"] ?? [:])
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove a model's registry entry (its checkpoint artifact stays, content-addressed).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Model name.") var name: String

        func run() async throws {
            let store = try openStore(connection)
            defer { store.close() }
            guard try store.removeModel(name: name) else { throw ValidationFailure("no model named '\(name)'") }
            print("removed model '\(name)'")
        }
    }
}

func modelJSON(_ m: ModelRecord) -> [String: Any] {
    var o: [String: Any] = [
        "name": m.name, "sha256": m.sha256, "size": m.size, "kind": m.kind, "service": m.service,
        "parents": m.parents, "created_at": iso(m.createdAt),
    ]
    o["config"] = (try? JSONSerialization.jsonObject(with: Data(m.configJSON.utf8))) ?? [String: Any]()
    if let r = m.runID { o["run_id"] = r }
    return o
}
