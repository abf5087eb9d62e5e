import ComputeCore
import Foundation
import TestKit
import VTP
import XCTest
@testable import RecTok

/// Shared tiny fixtures: Fashion-MNIST at 32 px (64 training images), the patch-projection
/// teacher (offline, instant), the xs preset.
enum RecTokFixtures {
    nonisolated(unsafe) static var dataCache: VTPData?

    /// The xs preset on Fashion-MNIST with `steps` joint and `decoderSteps` fine-tune steps.
    static func config(d: Int = 8, fsd: Bool = true, steps: Int = 6, decoderSteps: Int = 2) throws -> RecTokConfig {
        var c = try RecTokPresets.resolve("rectok-fmnist32-xs", latentChannels: d, fsd: fsd)
        c.teacher.kind = .patchProjection
        c.teacher.projectionChannels = 16
        c.train.steps = steps
        c.train.decoderSteps = decoderSteps
        c.train.trainLimit = 64
        c.train.warmupSteps = 1
        return c
    }

    static func data(_ c: RecTokConfig) throws -> VTPData {
        if let d = dataCache { return d }
        do {
            dataCache = try VTPData(dataset: c.train.dataset, imageSize: c.model.imageSize,
                                    validationFraction: c.train.validationFraction, trainLimit: c.train.trainLimit)
        } catch {
            throw TestRequirement.missing("Fashion-MNIST", hint: "install the Debian package dataset-fashion-mnist (\(error))")
        }
        return dataCache!
    }

    static func trainer(_ c: RecTokConfig) throws -> RecTokTrainer {
        try RecTokTrainer(config: c, data: try data(c))
    }

    /// A temporary file path removed after the test.
    static func tempPath(_ test: XCTestCase, _ name: String) -> String {
        let dir = TestRequirement.tempDir("rectok")
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.appendingPathComponent(name).path
    }

    /// Largest absolute difference between two value lists of equal length.
    static func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "maxDiff: \(a.count) vs \(b.count) values")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}

/// Finite-difference check of a scalar function's gradient (central differences, Float32):
/// every element of every input, |analytic - numeric| <= atol + rtol·max(|a|, |n|).
enum FiniteDifference {
    static func check(_ inputs: [Tensor], h: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                      file: StaticString = #filePath, line: UInt = #line, _ loss: ([Tensor]) -> Tensor) {
        for x in inputs { x.requiresGrad = true; x.zeroGrad() }
        loss(inputs).backward()
        let grads = inputs.map { $0.grad?.array ?? [Float](repeating: 0, count: $0.count) }
        for (k, x) in inputs.enumerated() {
            for i in 0..<x.count {
                let keep = x.ptr[i]
                x.ptr[i] = keep + h
                let up = withNoGrad { Double(loss(inputs).item) }
                x.ptr[i] = keep - h
                let down = withNoGrad { Double(loss(inputs).item) }
                x.ptr[i] = keep
                let numeric = Float((up - down) / Double(2 * h)), analytic = grads[k][i]
                XCTAssertLessThanOrEqual(abs(numeric - analytic), atol + rtol * max(abs(numeric), abs(analytic)),
                                         "input \(k)[\(i)]: analytic \(analytic), finite difference \(numeric)",
                                         file: file, line: line)
            }
        }
    }
}
