import Foundation
import Logging
import Metrics
import MeshProto
import RunStore
import SwiftProtobuf

/// Serves one service's work queue: every delivery becomes a recorded run with exactly
/// one terminal reply, acknowledged to the broker only after its outcome is stored and its
/// reply confirmed. Redeliveries of finished runs re-send the stored result.
public final class ServiceRuntime: @unchecked Sendable {
    public let definition: ServiceDefinition
    public let config: ServiceConfig
    public let transport: MeshTransport
    public let store: RunStore
    public let artifacts: ArtifactStore?
    let logger: Logger
    let startedAt = Date()
    let gitCommit: String

    let state = RuntimeState()
    let events: EventBus
    /// Progress and preview events of this runtime's runs, published in order off the step loop.
    let runEvents: OrderedEventPublisher
    /// Resolved configuration as JSON, recorded with every run (serialised once).
    let configJSON: String
    var consumers: [ConsumerHandle] = []
    var dispatcher: LaneDispatcher?
    var cancelSubscription: ConsumerHandle?
    var rollCallSubscription: ConsumerHandle?
    var watchdog: Task<Void, Never>?

    public init(definition: ServiceDefinition, config: ServiceConfig, transport: MeshTransport,
                store: RunStore, artifacts: ArtifactStore? = nil, logger: Logger? = nil) {
        var def = definition
        var config = config
        config.prefetch = max(config.prefetch, definition.minimumPrefetch)
        def.config = def.config.merging(config.redacted) { a, _ in a }
        self.config = config
        self.transport = transport
        self.store = store
        self.artifacts = artifacts
        self.gitCommit = GitInfo.commit
        var log = logger ?? Logger(label: "latentmesh.\(definition.name)")
        log[metadataKey: "service"] = .string(definition.name)
        log[metadataKey: "worker"] = .string(config.worker)
        self.logger = log
        self.definition = def
        self.events = EventBus(transport: transport)
        self.runEvents = OrderedEventPublisher(bus: events)
        let json = (try? JSONSerialization.data(withJSONObject: def.config, options: [.sortedKeys])) ?? Data("{}".utf8)
        self.configJSON = String(decoding: json, as: UTF8.self)
        self.definitionWithBackbone = def
        self.definitionWithBackbone = Self.addingBackbone(to: def, runtime: self)
    }

    /// The definition plus the backbone's own methods (describe, health, ping).
    public private(set) var definitionWithBackbone: ServiceDefinition

    public var queueName: String { MeshTopology.workQueue(service: definition.name) }

    /// Declares topology, listens for cancellations, and starts consuming.
    public func start() async throws {
        try await transport.declareService(definition.name, routingKeys: definitionWithBackbone.routingKeys)
        cancelSubscription = try await events.subscribeCancellations { [weak self] cancel in
            self?.state.cancel(runID: cancel.runID, reason: cancel.reason.isEmpty ? "cancelled by client" : cancel.reason)
        }
        rollCallSubscription = try await answerRollCalls()
        consumers = try await startConsumers()
        startWatchdog()
        logger.info("serving \(queueName) (+ \(MeshTopology.urgentSuffix) lane) over \(transport.kind), store \(store.backend), prefetch \(config.prefetch)")
    }

    /// Graceful stop: no new deliveries; in-flight work gets `grace` seconds to finish, then is
    /// cancelled and requeued (its run goes back to queued) so another worker picks it up.
    public func shutdown(grace: Double? = nil) async {
        let grace = grace ?? config.shutdownGraceSeconds
        state.beginShutdown()
        // Stop new deliveries but keep the channel, so in-flight work can still be acked.
        for c in consumers { await c.stopDeliveries() }
        await dispatcher?.requeueWaiting()
        logger.info("shutting down: \(state.inFlightCount) in flight, grace \(grace) s")
        let until = Date().addingTimeInterval(grace)
        while state.inFlightCount > 0 && Date() < until {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        if state.inFlightCount > 0 {
            logger.warning("requeueing \(state.inFlightCount) runs still in flight")
            state.cancelAll(reason: RuntimeState.shutdownReason)
            let hardUntil = Date().addingTimeInterval(10)
            while state.inFlightCount > 0 && Date() < hardUntil {
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
        }
        watchdog?.cancel()
        for c in consumers { await c.cancel() }
        await cancelSubscription?.cancel()
        await rollCallSubscription?.cancel()
        await runEvents.finish()
        try? store.flush()
        logger.info("stopped; handled \(state.handledCount)")
    }

    public var inFlight: Int { state.inFlightCount }
    public var handled: Int { state.handledCount }
}

/// Thread-safe bookkeeping of in-flight runs, cancellations and abandoned (stalled) runs.
final class RuntimeState: @unchecked Sendable {
    static let shutdownReason = "worker shutting down"
    private let lock = NSLock()
    private var running: [String: RunContext] = [:]
    private var deliveries: [String: Delivery] = [:]
    private var cancelledEarly: [String: String] = [:]
    private var cancelledOrder: [String] = []
    /// Runs the stall watchdog gave back to the broker; their late outcome is discarded.
    private var abandonedRuns: Set<String> = []
    /// Requests abandoned here (bounded): a redelivery to this worker is passed on to another.
    private var abandonedRequests: Set<String> = []
    private var abandonedOrder: [String] = []
    private var handled = 0
    private(set) var shuttingDown = false

    var inFlightCount: Int { lock.lock(); defer { lock.unlock() }; return running.count - abandonedRuns.count }
    var handledCount: Int { lock.lock(); defer { lock.unlock() }; return handled }
    var isShuttingDown: Bool { lock.lock(); defer { lock.unlock() }; return shuttingDown }

    func beginShutdown() { lock.lock(); shuttingDown = true; lock.unlock() }

    func register(_ ctx: RunContext, delivery: Delivery) {
        lock.lock(); defer { lock.unlock() }
        running[ctx.runID] = ctx
        deliveries[ctx.runID] = delivery
        if let reason = cancelledEarly.removeValue(forKey: ctx.runID) { ctx.cancel(reason: reason) }
    }

    /// Removes a finished run; returns false if the watchdog abandoned it (discard its outcome).
    @discardableResult
    func finish(_ runID: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        running[runID] = nil
        deliveries[runID] = nil
        if abandonedRuns.remove(runID) != nil { return false }
        handled += 1
        return true
    }

    /// Marks every run idle for longer than `seconds` as abandoned and returns it with its delivery.
    func takeStalled(olderThan seconds: Double) -> [(RunContext, Delivery)] {
        lock.lock(); defer { lock.unlock() }
        var out: [(RunContext, Delivery)] = []
        for (id, ctx) in running where !abandonedRuns.contains(id) && ctx.secondsSinceActivity > seconds {
            guard let d = deliveries[id] else { continue }
            abandonedRuns.insert(id)
            abandonedRequests.insert(ctx.requestID)
            abandonedOrder.append(ctx.requestID)
            if abandonedOrder.count > 10_000 { abandonedRequests.remove(abandonedOrder.removeFirst()) }
            out.append((ctx, d))
        }
        return out
    }

    /// Whether this worker abandoned `requestID` before.
    func abandonedHere(_ requestID: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return abandonedRequests.contains(requestID)
    }

    func cancel(runID: String, reason: String) {
        lock.lock(); defer { lock.unlock() }
        if let ctx = running[runID] { ctx.cancel(reason: reason); return }
        // Not started here yet: remember it (bounded) in case it arrives later.
        cancelledEarly[runID] = reason
        cancelledOrder.append(runID)
        if cancelledOrder.count > 10_000 {
            let old = cancelledOrder.removeFirst()
            cancelledEarly[old] = nil
        }
    }

    func cancelAll(reason: String) {
        lock.lock(); defer { lock.unlock() }
        for ctx in running.values { ctx.cancel(reason: reason) }
    }
}
