import Foundation
import SwiftProtobuf
import MeshProto

/// One method a service answers, bound to a routing key on the work exchange.
public struct ServiceMethod: Sendable {
    public typealias Body = @Sendable (Data, RunContext) async throws -> Data

    public let routingKey: String
    public let requestType: String
    public let responseType: String
    public let summary: String
    /// Whether the handler is a long job (training): runs get lease heartbeats and progress.
    public let isLongRunning: Bool
    public let body: Body

    public init(routingKey: String, requestType: String, responseType: String, summary: String,
                isLongRunning: Bool = false, body: @escaping Body) {
        self.routingKey = routingKey; self.requestType = requestType; self.responseType = responseType
        self.summary = summary; self.isLongRunning = isLongRunning; self.body = body
    }

    /// A method with typed protobuf request and response. The request is decoded strictly
    /// (a body that is not a valid `Request` is a malformed message).
    public static func typed<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ routingKey: String, summary: String, isLongRunning: Bool = false,
        _ handler: @escaping @Sendable (Request, RunContext) async throws -> Response
    ) -> ServiceMethod {
        ServiceMethod(routingKey: routingKey,
                      requestType: Request.protoMessageName,
                      responseType: Response.protoMessageName,
                      summary: summary, isLongRunning: isLongRunning) { data, context in
            let request: Request
            do {
                request = try Request(serializedBytes: data)
            } catch {
                throw MalformedRequest(reason: "body is not a valid \(Request.protoMessageName): \(error)")
            }
            let response = try await handler(request, context)
            return try response.serializedData()
        }
    }

    public var proto: Latentmesh_V1_MethodDescription {
        var m = Latentmesh_V1_MethodDescription()
        m.routingKey = routingKey
        m.requestType = requestType
        m.responseType = responseType
        m.summary = summary
        return m
    }
}

/// A body that cannot be decoded at all: the message is dead-lettered, never retried.
public struct MalformedRequest: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { "malformed request: \(reason)" }
}

/// A service: its name (routing-key prefix and queue suffix), version and methods.
public struct ServiceDefinition: Sendable {
    public let name: String
    public let version: String
    public private(set) var methods: [ServiceMethod]
    /// Resolved configuration reported by describe and recorded with each run (no credentials).
    public var config: [String: String]
    /// The service's own readiness check (e.g. models loaded): nil when ready, else what is missing.
    public var readiness: @Sendable () -> String? = { nil }
    /// Prefetch the runtime uses at least (a batching service must see the requests it may batch).
    public var minimumPrefetch = 1

    public init(name: String, version: String = LatentMeshVersion.current, methods: [ServiceMethod] = [],
                config: [String: String] = [:]) {
        self.name = name; self.version = version; self.methods = methods; self.config = config
    }

    public mutating func add(_ method: ServiceMethod) {
        precondition(method.routingKey.hasPrefix(name + "."), "routing key \(method.routingKey) must start with \(name).")
        methods.removeAll { $0.routingKey == method.routingKey }
        methods.append(method)
    }

    public func method(for routingKey: String) -> ServiceMethod? {
        methods.first { $0.routingKey == routingKey }
    }

    public var routingKeys: [String] { methods.map(\.routingKey) }
}

public enum LatentMeshVersion {
    public static let current = "0.1.0"
}
