import Foundation
import Metrics
import Prometheus

/// Process-wide metrics: swift-metrics backed by a Prometheus registry.
/// Metric names: mesh_requests_total{service,kind,outcome}, mesh_request_duration_seconds,
/// mesh_queue_wait_seconds, mesh_errors_total{stage}.
public enum MeshMetrics {
    public static let registry = PrometheusCollectorRegistry()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var bootstrapped = false

    /// Installs the Prometheus factory once per process (later calls do nothing).
    public static func bootstrap() {
        lock.lock(); defer { lock.unlock() }
        guard !bootstrapped else { return }
        bootstrapped = true
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
            .seconds(30), .seconds(120), .seconds(600),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// Prometheus text exposition of everything recorded so far.
    public static func exposition() -> String {
        registry.emitToString()
    }
}
