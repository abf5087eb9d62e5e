import Foundation

extension ServiceRuntime {
    /// The operations endpoint of this runtime: `/metrics`, `/health` (liveness: the process
    /// serves and is not shutting down), `/ready` (readiness: broker connected, store answering
    /// within `storeProbeTimeout`, the service's own check, e.g. models loaded).
    public func opsServer(host: String = "0.0.0.0", limits: OpsServer.Limits = OpsServer.Limits()) -> OpsServer {
        OpsServer(host: host, limits: limits, logger: logger,
                  metrics: { MeshMetrics.exposition() },
                  health: { [weak self] in
                      guard let self else { return OpsServer.Probe(ok: false, text: "stopped") }
                      if state.isShuttingDown { return OpsServer.Probe(ok: false, text: "shutting down") }
                      return OpsServer.Probe(ok: true, text: "ok \(definition.name) \(config.worker) in_flight=\(inFlight)")
                  },
                  ready: { [weak self] in
                      guard let self else { return OpsServer.Probe(ok: false, text: "stopped") }
                      return await readiness()
                  })
    }

    /// Seconds the store may take to answer the readiness probe.
    static let storeProbeTimeout: Double = 1.0

    /// Readiness: every failing check is named in the text.
    public func readiness() async -> OpsServer.Probe {
        var missing: [String] = []
        if state.isShuttingDown { missing.append("shutting down") }
        if consumers.isEmpty { missing.append("not consuming \(queueName)") }
        if !transport.isConnected { missing.append("broker not connected") }
        let store = self.store
        let storeOK = await Self.completes(within: Self.storeProbeTimeout) {
            _ = try store.run(id: "00000000-0000-0000-0000-000000000000")
        }
        if !storeOK { missing.append("store (\(store.backend)) not answering within \(Self.storeProbeTimeout) s") }
        if let reason = definition.readiness() { missing.append(reason) }
        if missing.isEmpty {
            return OpsServer.Probe(ok: true, text: "ready \(definition.name) \(config.worker)")
        }
        return OpsServer.Probe(ok: false, text: "not ready: " + missing.joined(separator: "; "))
    }

    /// Runs blocking `body` on a global queue; true if it returned without throwing in time.
    static func completes(within seconds: Double, _ body: @escaping @Sendable () throws -> Void) async -> Bool {
        let once = SettleOnce()
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            DispatchQueue.global().async {
                let ok = (try? body()) != nil
                if once.claim() { c.resume(returning: ok) }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                if once.claim() { c.resume(returning: false) }
            }
        }
    }
}
