import MeshKit
import MeshProto
import SwiftProtobuf

extension MeshClient {
    /// `call`, retrying up to `retries` times while the method is not routable yet (NOT_FOUND on
    /// `routing_key`: a stack worker still binding its queue, or another checkout's worker on the
    /// shared stack that lacks the method).
    public func callRetryingRoute<Request: MeshRequest, Response: SwiftProtobuf.Message>(
        _ routingKey: String, _ request: Request, as: Response.Type = Response.self,
        timeout: Duration = .seconds(300), retries: Int = 30
    ) async throws -> Answer<Response> {
        var attempt = 0
        while true {
            do { return try await call(routingKey, request, as: Response.self, timeout: timeout) } catch let e as ServiceError
                where e.code == .notFound && e.field == "routing_key" && attempt < retries {
                attempt += 1
                try await Task.sleep(nanoseconds: 100_000_000)
            }
        }
    }
}
