import ArgumentParser
import Foundation
import MeshKit
import MeshProto
import RunStore

/// `meshctl personalize learn|blend|list`: concepts (new words learned by personalize-svc, METHODS.md §4).
public struct PersonalizeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "personalize", abstract: "Learn new words (<name>) from a few images; blend two; list learned concepts.",
        subcommands: [PersonalizeLearnCommand.self, PersonalizeBlendCommand.self, PersonalizeListCommand.self])
    public init() {}
}

/// Sends `personalize.learn` and shows progress until the run ends.
struct PersonalizeLearnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn", abstract: "Learn <name> from PNG images of one subject on a registered generator.")
    @Option(help: "The new word, e.g. \"<my-bag>\".") var name: String
    @Option(name: .customLong("class"), help: "Class word (one MiniLM vocabulary word), e.g. bag.") var classWord: String
    @Argument(help: "PNG images of the concept (the generator's tokenizer image size).") var images: [String]
    @Option(help: "dti (norm fixed at m*) or ti (unconstrained baseline).") var method = "dti"
    @Option(help: "Registered generator model.") var generator: String
    @Option(help: "Steps (0 = 400).") var steps: Int32 = 0
    @Option(help: "vMF prior concentration (0 = 1e-4).") var kappa: Float = 0
    @Option(help: "Seed.") var seed: UInt64 = 0
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        guard !images.isEmpty else { throw ValidationError("give at least one PNG image") }
        var req = Latentmesh_V1_LearnConceptRequest()
        req.conceptName = name; req.classWord = classWord; req.method = method; req.generatorModel = generator
        req.steps = steps; req.kappa = kappa; req.seed = seed
        req.imagesPng = try images.map { f in
            guard let d = FileManager.default.contents(atPath: f) else { throw ValidationError("cannot read \(f)") }
            return d
        }
        req.meta.requestID = UUID().uuidString.lowercased()
        let session = try await MeshSession.open(connection)
        let watcher = Task { _ = try? await ProgressFollower(store: session.store, target: .requestID(req.meta.requestID)).follow() }
        do {
            let a = try await session.client.call("personalize.learn", req, as: Latentmesh_V1_LearnConceptResult.self,
                                                  timeout: .seconds(7 * 86_400))
            watcher.cancel()
            let m = a.response.finalMetrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.4g", $0.value))" }
            print("\nrun \(a.reply.runID): concept \(a.response.conceptName) norm \(a.response.norm)")
            print("final: " + m.joined(separator: " "))
        } catch {
            watcher.cancel()
            print("\npersonalize.learn: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        await session.close()
    }
}

/// Sends `personalize.blend`: registers the slerp of two concepts at t as a new concept.
struct PersonalizeBlendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blend", abstract: "Register <name> = slerp(A, B, t): a concept between two learned ones (use it in any prompt).")
    @Argument(help: "First concept, e.g. \"<my-bag>\".") var conceptA: String
    @Argument(help: "Second concept (learned on the same generator).") var conceptB: String
    @Option(help: "Slerp weight in [0, 1] (0 = A, 1 = B).") var t: Float = 0.5
    @Option(help: "The new concept's name, e.g. \"<bag-shoe>\".") var name: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var req = Latentmesh_V1_BlendConceptsRequest()
        req.conceptA = conceptA; req.conceptB = conceptB; req.t = t; req.name = name
        req.meta.requestID = UUID().uuidString.lowercased()
        let session = try await MeshSession.open(connection)
        do {
            let a = try await session.client.call("personalize.blend", req, as: Latentmesh_V1_BlendConceptsResult.self,
                                                  timeout: .seconds(600))
            print("run \(a.reply.runID): concept \(a.response.conceptName) = slerp(\(conceptA), \(conceptB), t=\(t)); norm "
                  + String(format: "%.4f, angle between them %.1f°", a.response.norm, Double(a.response.angle) * 180 / .pi))
        } catch {
            print("personalize.blend: \(error)")
            await session.close()
            throw ExitCode(1)
        }
        await session.close()
    }
}

/// Lists registered concepts (registry kind `concept`) with method, class word, norm and generator.
struct PersonalizeListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List learned concepts.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let session = try await MeshSession.open(connection)
        defer { Task { await session.close() } }
        let models = try session.store.listModels(ModelQuery(kind: ModelRegistry.conceptKind, limit: 1000))
        if models.isEmpty { print("no concepts: learn one with meshctl personalize learn"); return }
        for m in models {
            let c = (try? JSONSerialization.jsonObject(with: Data(m.configJSON.utf8)) as? [String: Any]) ?? [:]
            let norm = (c["norm"] as? Double).map { String(format: "%.4f", $0) } ?? "-"
            let origin = (c["method"] as? String) == "blend"
                ? "of=\(c["concept_a"] as? String ?? "?")+\(c["concept_b"] as? String ?? "?")@t=\(c["t"] as? Double ?? .nan)"
                : "class=\(c["class_word"] as? String ?? "?")"
            print("\(c["name"] as? String ?? m.name)\tmethod=\(c["method"] as? String ?? "?")\t\(origin)"
                  + "\tnorm=\(norm)\tgenerator=\(m.parents.first ?? "-")\tsha256=\(m.sha256.prefix(12))")
        }
    }
}
