import XCTest
@testable import ComputeCore

/// Central finite-difference gradient checker (test-side).
/// Perturbs each input element by ±eps in Float32 and compares (f(x+e) - f(x-e)) / 2eps with
/// the tape's gradient of sum(f(x) * w) for a fixed random projection w.
/// Tolerance: |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|),
/// with eps = 1e-2, atol = 2e-3, rtol = 2e-2 (float32 rounding of the differences dominates).
enum GradCheck {
    static func check(_ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                      file: StaticString = #filePath, line: UInt = #line,
                      _ f: ([Tensor]) -> Tensor) {
        for x in inputs { x.requiresGrad = true; x.zeroGrad() }
        var rng = RNG(seed: 99)
        let y0 = f(inputs)
        let w = rng.normal(y0.shape)
        let loss = (y0 * w).sum()
        loss.backward()
        func evalLoss() -> Double {
            withNoGrad {
                let y = f(inputs)
                var s = 0.0
                for i in 0..<y.count { s += Double(y.ptr[i]) * Double(w.ptr[i]) }
                return s
            }
        }
        for (k, x) in inputs.enumerated() {
            let g = x.grad
            for i in 0..<x.count {
                let orig = x.ptr[i]
                x.ptr[i] = orig + eps; let lp = evalLoss()
                x.ptr[i] = orig - eps; let lm = evalLoss()
                x.ptr[i] = orig
                let num = Float((lp - lm) / Double(2 * eps))
                let ana = g?.ptr[i] ?? 0
                let tol = atol + rtol * max(abs(num), abs(ana))
                if abs(num - ana) > tol {
                    XCTFail("input \(k) element \(i): analytic \(ana) vs numeric \(num)", file: file, line: line)
                    return
                }
            }
        }
    }

    /// Forward-mode check: the tangent of f at x along v vs (f(x+hv) - f(x-hv)) / 2h.
    static func checkJVP(_ inputs: [Tensor], h: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                         file: StaticString = #filePath, line: UInt = #line,
                         _ f: ([Tensor]) -> Tensor) {
        var rng = RNG(seed: 7)
        let vs = inputs.map { rng.normal($0.shape) }
        let (_, tan) = jvp(inputs, vs, f)
        let plus = withNoGrad { f(zip(inputs, vs).map { ($0 + $1 * h).detached() }) }
        let minus = withNoGrad { f(zip(inputs, vs).map { ($0 - $1 * h).detached() }) }
        for i in 0..<plus.count {
            let num = (plus.ptr[i] - minus.ptr[i]) / (2 * h)
            let ana = tan.ptr[i]
            if abs(num - ana) > atol + rtol * max(abs(num), abs(ana)) {
                XCTFail("JVP element \(i): forward-mode \(ana) vs finite difference \(num)", file: file, line: line)
                return
            }
        }
    }
}
