import Foundation
import XCTest
@testable import ComputeCore

/// Gradient recording is per task / thread: inference under `withNoGrad` on other threads
/// and tasks, running at the same time as training steps, leaves the steps' gradients
/// bit-identical to a serial run.
final class GradModeTests: XCTestCase {
    /// A two-layer MLP loss; returns dL/dW1 and dL/dW2 (flattened).
    static func gradients(_ w1: Tensor, _ w2: Tensor, _ x: Tensor) -> [Float] {
        w1.zeroGrad(); w2.zeroGrad()
        // Many small ops widen the window in which another thread could flip a global switch.
        var h = x.matmul(w1)                       // [8, 16]
        for _ in 0..<20 { h = (h * 0.9).tanh() + h * 0.1 }
        let loss = h.matmul(w2).square().sum()     // [8, 4] -> []
        loss.backward()
        return w1.grad!.array + w2.grad!.array
    }

    func testNoGradElsewhereDoesNotChangeGradients() async throws {
        var rng = RNG(seed: 3)
        let w1 = rng.uniform([6, 16], -0.5, 0.5), w2 = rng.uniform([16, 4], -0.5, 0.5)
        w1.requiresGrad = true; w2.requiresGrad = true
        let x = rng.uniform([8, 6], -1, 1)
        let serial = Self.gradients(w1, w2, x)
        XCTAssertTrue(GradMode.isEnabled)

        // Inference beside training: a plain thread and several tasks loop in withNoGrad.
        let stop = Flag()
        let inferenceThread = Thread {
            var n = 0
            while !stop.value { withNoGrad { _ = x.matmul(w1).tanh().sum(); XCTAssertFalse(GradMode.isEnabled) }; n += 1 }
        }
        inferenceThread.start()
        let inferenceTasks = (0..<3).map { _ in
            Task.detached {
                while !stop.value {
                    withNoGrad { _ = x.matmul(w1).tanh().sum() }
                    await Task.yield()
                }
            }
        }
        // Training steps on other tasks at the same time.
        let results = try await withThrowingTaskGroup(of: [[Float]].self) { group in
            for _ in 0..<2 {
                group.addTask {
                    (0..<30).map { _ in
                        let a = w1.copy(), b = w2.copy()
                        a.requiresGrad = true; b.requiresGrad = true
                        return Self.gradients(a, b, x)
                    }
                }
            }
            var all: [[Float]] = []
            for try await r in group { all += r }
            return all
        }
        stop.value = true
        for t in inferenceTasks { await t.value }
        XCTAssertEqual(results.count, 60)
        for (i, g) in results.enumerated() { XCTAssertEqual(g, serial, "step \(i) differs from the serial run") }
        XCTAssertTrue(GradMode.isEnabled, "withNoGrad elsewhere never leaks into this task")
        withNoGrad { XCTAssertFalse(GradMode.isEnabled) }
        XCTAssertTrue(GradMode.isEnabled)
    }
}

/// A thread-safe boolean.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var v = false
    var value: Bool {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}
