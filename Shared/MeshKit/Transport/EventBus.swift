import Foundation
import MeshProto
import SwiftProtobuf

/// Publishes and subscribes `latentmesh.v1.Event`s on the events topic exchange.
///
/// Routing keys: `run.<run_id>.progress|preview|status` for run events, `cancel.<run_id>` for CancelRun.
public final class EventBus: Sendable {
    public let transport: MeshTransport

    public init(transport: MeshTransport) {
        self.transport = transport
    }

    /// The routing key of an event; throws when the payload is missing or the run id is unusable.
    public static func routingKey(for event: Latentmesh_V1_Event) throws -> String {
        switch event.payload {
        case .progress(let p): return "run.\(try checkedRunID(p.runID)).progress"
        case .preview(let p): return "run.\(try checkedRunID(p.runID)).preview"
        case .status(let s): return "run.\(try checkedRunID(s.runID)).status"
        case .cancel(let c): return "cancel.\(try checkedRunID(c.runID))"
        case nil: throw TransportError.invalidArgument(field: "event.payload", message: "an event needs a payload")
        }
    }

    /// Run ids become one routing-key word: non-empty, no '.', '*', '#'.
    static func checkedRunID(_ id: String) throws -> String {
        guard !id.isEmpty, !id.contains(where: { $0 == "." || $0 == "*" || $0 == "#" }), id.utf8.count <= 200 else {
            throw TransportError.invalidArgument(field: "run_id",
                message: "'\(id)' must be 1...200 bytes without '.', '*' or '#'")
        }
        return id
    }

    /// Publishes an event (transient; confirmed by the broker).
    public func publish(_ event: Latentmesh_V1_Event) async throws {
        let key = try Self.routingKey(for: event)
        let props = MessageProperties(type: key, timestampMs: Int64(Date().timeIntervalSince1970 * 1000), persistent: false)
        try await transport.publish(exchange: MeshTopology.eventsExchange, routingKey: key,
                                    body: try event.serializedData(), properties: props)
    }

    /// Publishes a progress event for `progress.runID`.
    public func publish(progress: Latentmesh_V1_Progress) async throws {
        var e = Latentmesh_V1_Event()
        e.progress = progress
        try await publish(e)
    }

    /// Publishes a status event for `status.runID`.
    public func publish(status: Latentmesh_V1_RunStatus) async throws {
        var e = Latentmesh_V1_Event()
        e.status = status
        try await publish(e)
    }

    /// Asks every service running `runID` to cancel it (routing key `cancel.<run_id>`).
    public func publishCancel(runID: String, reason: String = "") async throws {
        var c = Latentmesh_V1_CancelRun()
        c.runID = runID
        c.reason = reason
        var e = Latentmesh_V1_Event()
        e.cancel = c
        try await publish(e)
    }

    /// Subscribes to raw binding keys; undecodable messages are skipped. Handler calls are serial.
    public func subscribe(bindingKeys: [String],
                          handler: @escaping @Sendable (_ routingKey: String, _ event: Latentmesh_V1_Event) async -> Void)
        async throws -> ConsumerHandle {
        try await transport.subscribe(bindingKeys: bindingKeys) { delivery in
            guard let event = try? Latentmesh_V1_Event(serializedBytes: delivery.body) else { return }
            await handler(delivery.routingKey, event)
        }
    }

    /// Subscribes to the events of one run (`run.<id>.*`), or of all runs when `runID` is nil.
    public func subscribe(runID: String?,
                          handler: @escaping @Sendable (_ routingKey: String, _ event: Latentmesh_V1_Event) async -> Void)
        async throws -> ConsumerHandle {
        let key = try runID.map { "run.\(try Self.checkedRunID($0)).*" } ?? "run.*.*"
        return try await subscribe(bindingKeys: [key], handler: handler)
    }

    /// Subscribes to cancellations of one run (`cancel.<id>`), or of all runs when `runID` is nil.
    public func subscribeCancellations(runID: String? = nil,
                                       handler: @escaping @Sendable (Latentmesh_V1_CancelRun) async -> Void)
        async throws -> ConsumerHandle {
        let key = try runID.map { "cancel.\(try Self.checkedRunID($0))" } ?? "cancel.*"
        return try await subscribe(bindingKeys: [key]) { _, event in
            if case .cancel(let c) = event.payload { await handler(c) }
        }
    }
}
