import Foundation
import XCTest
@testable import MeshKit

/// The management calls the shared transport scenarios need (both transports implement them).
protocol ScenarioTransport: MeshTransport {
    func declareWorkQueue(_ queue: String, routingKeys: [String]) async throws
    func declareTapQueue(_ queue: String, exchange: String, bindingKey: String) async throws
    func deleteQueue(_ queue: String) async throws
}

extension AMQPTransport: ScenarioTransport {}
extension InProcessTransport: ScenarioTransport {}

enum TestServers {
    /// MESH_AMQP_URL, or XCTSkip (XCTFail when MESH_REQUIRE_SERVERS=1).
    static func amqpURL() throws -> String {
        if let url = ProcessInfo.processInfo.environment["MESH_AMQP_URL"], !url.isEmpty { return url }
        if ProcessInfo.processInfo.environment["MESH_REQUIRE_SERVERS"] == "1" {
            XCTFail("MESH_AMQP_URL is not set but MESH_REQUIRE_SERVERS=1")
            throw TransportError.unavailable("MESH_AMQP_URL missing")
        }
        throw XCTSkip("MESH_AMQP_URL not set (run scripts/stack up)")
    }
}

/// A thread-safe recorder for handler callbacks.
final class Recorder<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []
    private var current = 0
    private var peak = 0

    func append(_ item: T) { lock.withLock { items.append(item) } }
    var all: [T] { lock.withLock { items } }
    var count: Int { lock.withLock { items.count } }

    /// Concurrency gauge: enter/leave around work; `maxConcurrent` is the peak.
    func enter() { lock.withLock { current += 1; peak = max(peak, current) } }
    func leave() { lock.withLock { current -= 1 } }
    var maxConcurrent: Int { lock.withLock { peak } }
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass; returns whether it held.
func eventually(timeout: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return try await condition()
}

func uniqueName(_ label: String) -> String {
    "lmtest.\(label).\(UUID().uuidString.prefix(8).lowercased())"
}
