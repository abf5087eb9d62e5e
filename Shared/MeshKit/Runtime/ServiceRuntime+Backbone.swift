import Foundation
import MeshProto

extension ServiceRuntime {
    /// Upper limits of the ping probe's fields (validated, answered INVALID_ARGUMENT).
    public static let pingMaxPayload = 65_536
    public static let pingWorkRange: ClosedRange<Int32> = 0...30_000

    /// Adds the backbone's own methods every service answers: describe, health, ping.
    static func addingBackbone(to definition: ServiceDefinition, runtime: ServiceRuntime) -> ServiceDefinition {
        var def = definition
        let name = definition.name
        def.add(.typed("\(name).describe", summary: "describe this service: version, methods, resolved configuration") {
            [unowned runtime] (_: Latentmesh_V1_DescribeRequest, _) in
            runtime.describe()
        })
        def.add(.typed("\(name).health", summary: "liveness and load of the worker that answers") {
            [unowned runtime] (_: Latentmesh_V1_HealthRequest, _) in
            var h = Latentmesh_V1_HealthStatus()
            h.service = name
            h.serving = !runtime.state.isShuttingDown
            h.worker = runtime.config.worker
            h.uptimeMs = Int64(Date().timeIntervalSince(runtime.startedAt) * 1000)
            h.inFlight = Int64(runtime.state.inFlightCount)
            h.handled = Int64(runtime.state.handledCount)
            return h
        })
        def.add(.typed("\(name).ping", summary: "echo a payload after optional simulated work (probe for tests and benchmarks)") {
            [unowned runtime] (req: Latentmesh_V1_PingRequest, ctx) in
            guard req.payload.count <= pingMaxPayload else {
                throw ServiceError.outOfRange("payload.size", req.payload.count, 0...pingMaxPayload)
            }
            guard pingWorkRange.contains(req.workMs) else {
                throw ServiceError.outOfRange("work_ms", req.workMs, pingWorkRange)
            }
            var worked: Int32 = 0
            while worked < req.workMs {
                try ctx.checkCancelled()
                let slice = min(10, req.workMs - worked)
                try? await Task.sleep(nanoseconds: UInt64(slice) * 1_000_000)
                worked += slice
                if worked % 500 == 0 || worked == req.workMs {
                    await ctx.progress(step: Int(worked), total: Int(req.workMs), metrics: ["worked_ms": Double(worked)],
                                       message: "simulated work")
                }
            }
            var r = Latentmesh_V1_PingResponse()
            r.payload = req.payload
            r.worker = runtime.config.worker
            r.workedMs = worked
            return r
        })
        return def
    }

    /// This worker's description.
    public func describe() -> Latentmesh_V1_ServiceDescription {
        var d = Latentmesh_V1_ServiceDescription()
        d.service = definition.name
        d.version = definition.version
        d.gitCommit = gitCommit
        d.worker = config.worker
        d.startedUnixMs = Int64(startedAt.timeIntervalSince1970 * 1000)
        d.methods = definitionWithBackbone.methods.map(\.proto)
        d.config = definitionWithBackbone.config
        d.transport = transport.kind
        d.store = store.backend
        return d
    }
}
