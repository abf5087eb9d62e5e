import Foundation
import Metrics

/// Transport metrics (swift-metrics; exported by whatever backend the process bootstrapped):
/// mesh_transport_publish_total{transport,outcome}, mesh_transport_confirm_seconds{transport},
/// mesh_transport_reconnects_total{transport,link}, mesh_transport_stale_settles_total{transport}.
enum TransportMetrics {
    /// Counts settled publishes: outcome = confirmed | rejected | timeout.
    static func published(_ transport: String, outcome: String, count: Int = 1) {
        guard count > 0 else { return }
        Counter(label: "mesh_transport_publish_total", dimensions: [("transport", transport), ("outcome", outcome)])
            .increment(by: count)
    }

    /// Time from a publish entering the transport to its broker confirm.
    static func confirmLatency(_ transport: String, since start: DispatchTime) {
        Timer(label: "mesh_transport_confirm_seconds", dimensions: [("transport", transport)])
            .recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- start.uptimeNanoseconds))
    }

    /// A connection (link = control | consumer) came back after the broker went away.
    static func reconnected(_ transport: String, link: String) {
        Counter(label: "mesh_transport_reconnects_total", dimensions: [("transport", transport), ("link", link)]).increment()
    }

    /// An ack/nack of a delivery whose channel had died (the broker redelivers that message).
    static func staleSettle(_ transport: String) {
        Counter(label: "mesh_transport_stale_settles_total", dimensions: [("transport", transport)]).increment()
    }
}
