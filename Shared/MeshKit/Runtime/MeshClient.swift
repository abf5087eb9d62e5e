import Foundation
import MeshProto
import SwiftProtobuf

/// Typed request/reply on top of `RPCClient`: fills in request ids, decodes the terminal
/// `Reply`, and turns an error reply into a thrown `ServiceError`.
public final class MeshClient: @unchecked Sendable {
    public let transport: MeshTransport
    public let rpc: RPCClient
    public let clientName: String

    public init(transport: MeshTransport, clientName: String = "meshctl") async throws {
        self.transport = transport
        self.rpc = try await RPCClient(transport: transport)
        self.clientName = clientName
    }

    /// A successful call: the typed response plus the reply envelope (run id, worker, timings).
    public struct Answer<Response: SwiftProtobuf.Message> {
        public let response: Response
        public let reply: Latentmesh_V1_Reply
    }

    /// Calls `routingKey` with `request`; assigns a fresh request id unless one is set.
    public func call<Request: MeshRequest, Response: SwiftProtobuf.Message>(
        _ routingKey: String, _ request: Request, as: Response.Type = Response.self,
        timeout: Duration = .seconds(60)
    ) async throws -> Answer<Response> {
        let reply = try await callRaw(routingKey, request, timeout: timeout)
        switch reply.outcome {
        case .result(let data):
            return Answer(response: try Response(serializedBytes: data), reply: reply)
        case .error(let e):
            throw ServiceError(proto: e)
        case nil:
            throw ServiceError(.internalError, "reply for \(reply.requestID) has neither result nor error")
        }
    }

    /// Calls and returns the reply envelope whatever its outcome.
    public func callRaw<Request: MeshRequest>(_ routingKey: String, _ request: Request,
                                              timeout: Duration = .seconds(60)) async throws -> Latentmesh_V1_Reply {
        var req = request
        if req.meta.requestID.isEmpty { req.meta.requestID = UUID().uuidString.lowercased() }
        if req.meta.client.isEmpty { req.meta.client = clientName }
        guard (0...MeshTopology.maxPriority).contains(req.meta.priority) else {
            throw ServiceError.outOfRange("meta.priority", req.meta.priority, 0...MeshTopology.maxPriority)
        }
        let key = MeshTopology.routingKey(method: routingKey, priority: req.meta.priority)
        let data = try await rpc.call(routingKey: key, body: try req.serializedData(), timeout: timeout)
        return try Latentmesh_V1_Reply(serializedBytes: data)
    }

    /// Asks whichever worker runs `runID` to stop at its next step.
    public func cancel(runID: String, reason: String = "cancelled by client") async throws {
        try await EventBus(transport: transport).publishCancel(runID: runID, reason: reason)
    }

    public func close() async { await rpc.close() }
}
