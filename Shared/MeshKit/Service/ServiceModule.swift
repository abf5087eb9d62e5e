import ComputeCore
import Foundation

/// The one plug-in shape of a LatentMesh service. A service module adapts its method library
/// (pure compute) to the mesh: it names the service, lists its methods and presets, and
/// prepares the process before the first request. Every `<name>-svc` executable is one line,
/// `await ServiceMain.run(MyModule())`; meshctl's embedded host, mesh-bench and the tests get
/// all modules from the one catalog (`ServiceCatalog`).
///
/// Adding a service: implement this protocol in `Services/<name>-svc/<Name>Svc/`, add its line to
/// `ServiceCatalog.modules`, and its targets to Package.swift (see Services/README.md).
public protocol ServiceModule: Sendable {
    /// Service name: routing-key prefix (`<name>.<method>`) and queue suffix, e.g. "tokenizer".
    var name: String { get }
    /// The method library it adapts, e.g. "VTP" (reported by describe).
    var method: String { get }
    /// One line on what the service does.
    var summary: String { get }
    /// Named configuration presets a request may choose (reported by describe).
    var presets: [String] { get }
    /// Further resolved settings reported by describe (limits, defaults); no credentials.
    var settings: [String: String] { get }
    /// The methods this service answers besides the backbone's (describe, health, ping).
    /// Called once per runtime; `config` is that process's resolved configuration.
    func methods(config: ServiceConfig) -> [ServiceMethod]
    /// Runs once before the runtime starts serving: the default applies `config.blasThreads`
    /// to the compute core; a module may also warm its models (call `applyComputeSettings`).
    func prepare(config: ServiceConfig) throws
    /// Readiness beyond broker and store (served at `/ready`): nil when ready, else what is
    /// missing, e.g. "model m not loaded". Models warmed in `prepare` are loaded before serving.
    func readiness() -> String?
    /// Whether the service batches concurrent requests (`ServiceConfig.maxBatch`): its prefetch is
    /// then raised to at least the max batch so a worker sees the requests it may batch.
    var batchesRequests: Bool { get }
}

extension ServiceModule {
    public var presets: [String] { [] }
    public var settings: [String: String] { [:] }
    public func methods(config: ServiceConfig) -> [ServiceMethod] { [] }
    public func prepare(config: ServiceConfig) throws { applyComputeSettings(config) }
    public func readiness() -> String? { nil }
    public var batchesRequests: Bool { false }

    /// Applies the process-wide compute settings of `config`: `blasThreads` > 0 sets the
    /// compute core's worker count (GEMM split workers and elementwise workers; OpenBLAS
    /// itself stays single-threaded under the split, see `Threads.configure`), 0 keeps the
    /// core's default (2 workers); `computeSlots` sizes the process's `ComputeGate`.
    public func applyComputeSettings(_ config: ServiceConfig) {
        if config.blasThreads > 0 { Threads.configure(config.blasThreads) }
        ComputeGate.shared.setSlots(config.computeSlots)
    }

    /// The service's definition under `config`: describe metadata plus every method.
    /// Calls `prepare(config:)` first.
    public func definition(config: ServiceConfig) throws -> ServiceDefinition {
        try prepare(config: config)
        var describe = settings
        describe["method"] = method
        describe["summary"] = summary
        if !presets.isEmpty { describe["presets"] = presets.joined(separator: ",") }
        var def = ServiceDefinition(name: name, config: describe)
        def.readiness = { [self] in readiness() }
        if batchesRequests {
            def.minimumPrefetch = config.maxBatch
            def.config["max_batch"] = String(config.maxBatch)
            def.config["max_batch_wait_ms"] = String(config.maxBatchWaitMs)
        }
        for m in methods(config: config) { def.add(m) }
        return def
    }
}
