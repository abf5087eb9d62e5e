import Foundation
import RunStore

/// The mesh's named models: the run store's `models` table (name -> checkpoint artifact, kind,
/// service, resolved config, parents) over the content-addressed artifact store. Handlers use
/// it through `RunContext.models()`; meshctl's `models list|show|rm` read the same table in
/// embedded and stack mode. Errors are `ServiceError`s naming the request field.
public struct ModelRegistry: Sendable {
    public let artifacts: ArtifactStore
    public var store: RunStore { artifacts.store }

    public init(artifacts: ArtifactStore) { self.artifacts = artifacts }

    /// Kind of a distilled few-step student: registered by distill-svc, served by generator-svc
    /// (which does not link distill-svc), so the string lives here.
    public static let studentKind = "distill-student"

    /// The one model-name rule (`ModelRecord.nameProblem`) as INVALID_ARGUMENT naming `field`.
    public static func validate(name: String, field: String) throws {
        if let problem = ModelRecord.nameProblem(name) { throw ServiceError.invalid(field, problem) }
    }

    /// The model called `name`, trained by `service` (nil = any service).
    /// NOT_FOUND naming `field` (with `hint`, e.g. how to train one) if there is none;
    /// INVALID_ARGUMENT if it belongs to another service.
    public func record(_ name: String, field: String, service: String? = nil, hint: String = "") throws -> ModelRecord {
        try Self.validate(name: name, field: field)
        guard let rec = try store.model(name: name) else {
            throw ServiceError.notFound(field, "no model named '\(name)'" + (hint.isEmpty ? "" : "; \(hint)"))
        }
        if let service, rec.service != service {
            throw ServiceError.invalid(field, "'\(name)' is a \(rec.kind) model of \(rec.service), not of \(service)")
        }
        return rec
    }

    /// Whether a model called `name` exists.
    public func exists(_ name: String) throws -> Bool { try store.model(name: name) != nil }

    /// The checkpoint file of `record` (NOT_FOUND naming `field` if the artifact is missing).
    public func file(_ record: ModelRecord, field: String) throws -> URL {
        let url = try artifacts.url(sha256: record.sha256)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ServiceError.notFound(field, "model '\(record.name)' points at missing artifact \(record.sha256)")
        }
        return url
    }

    /// Registers (replaces) `name` -> `artifact`.
    @discardableResult
    public func register(name: String, artifact: ArtifactRecord, kind: String, service: String, configJSON: String,
                         parents: [String] = [], runID: String? = nil) throws -> ModelRecord {
        let rec = ModelRecord(name: name, sha256: artifact.sha256, size: artifact.size, kind: kind, service: service,
                              configJSON: configJSON, parents: parents, runID: runID)
        try store.registerModel(rec)
        return rec
    }

    /// Registered models, newest first.
    public func list(service: String? = nil, kind: String? = nil, limit: Int = 100) throws -> [ModelRecord] {
        try store.listModels(ModelQuery(service: service, kind: kind, limit: limit))
    }

    /// Removes the entry `name` (its checkpoint artifact stays, content-addressed).
    @discardableResult
    public func remove(_ name: String) throws -> Bool { try store.removeModel(name: name) }
}

extension RunContext {
    /// The registry over this worker's artifact store (UNAVAILABLE if the worker has none).
    public func models() throws -> ModelRegistry {
        guard let artifacts else { throw ServiceError(.unavailable, "this worker has no artifact store") }
        return ModelRegistry(artifacts: artifacts)
    }
}

/// Objects loaded from model checkpoints, cached per process by content hash: a name
/// re-registered to a new checkpoint loads again, the same checkpoint loads once.
public final class ModelCache<Model>: @unchecked Sendable {
    private let lock = NSLock()
    private var cache: [String: Model] = [:]
    private let load: (URL) throws -> Model

    /// `load` builds the object from a checkpoint file.
    public init(load: @escaping (URL) throws -> Model) { self.load = load }

    /// The loaded model `name` of `service` (errors name `field`; a file that does not load is INTERNAL).
    public func model(_ name: String, field: String, service: String, hint: String = "",
                      registry: ModelRegistry) throws -> Model {
        let rec = try registry.record(name, field: field, service: service, hint: hint)
        lock.lock()
        if let m = cache[rec.sha256] { lock.unlock(); return m }
        lock.unlock()
        let url = try registry.file(rec, field: field)
        let m: Model
        do { m = try load(url) } catch {
            throw ServiceError(.internalError, field: field, "model '\(name)' cannot be loaded: \(error)")
        }
        lock.lock(); cache[rec.sha256] = m; lock.unlock()
        return m
    }
}
