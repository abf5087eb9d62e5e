import CBLAS
import ComputeCore
import Foundation

/// Linear probe: multinomial logistic regression on frozen features with L2 regularisation,
/// the regulariser chosen on a held-out validation split (as in CLIP's linear-probe protocol,
/// Radford et al. 2021, appendix A.3). Features are standardised with training statistics;
/// optimisation is full-batch gradient descent with Nesterov momentum.
public struct LinearProbe {
    public struct Result: Sendable {
        public var lambda: Float
        public var validationAccuracy: Double
        public var trainAccuracy: Double
    }

    public let classes: Int
    public let dimension: Int
    public let weights: [Float]   // [D, K]
    public let bias: [Float]      // [K]
    public let featureMean: [Float]
    public let featureStd: [Float]
    public let result: Result

    /// Fits on (trainX, trainY), selects lambda from `lambdas` by accuracy on (valX, valY), then
    /// keeps the model trained with that lambda. X rows are [D]; labels in 0..<classes.
    public init(trainX: [[Float]], trainY: [Int], valX: [[Float]], valY: [Int], classes: Int,
                lambdas: [Float] = [1e-4, 1e-3, 1e-2, 1e-1], iterations: Int = 300, learningRate: Float = 0.5) throws {
        guard classes >= 2 else { throw EvaluationError.invalidArgument(field: "classes", message: "must be >= 2, got \(classes)") }
        guard !trainX.isEmpty, trainX.count == trainY.count else {
            throw EvaluationError.invalidArgument(field: "trainX", message: "need equal, non-zero rows and labels (\(trainX.count) vs \(trainY.count))")
        }
        guard !valX.isEmpty, valX.count == valY.count else {
            throw EvaluationError.invalidArgument(field: "valX", message: "need equal, non-zero rows and labels (\(valX.count) vs \(valY.count))")
        }
        guard !lambdas.isEmpty else { throw EvaluationError.invalidArgument(field: "lambdas", message: "must not be empty") }
        let d = trainX[0].count
        guard (trainX + valX).allSatisfy({ $0.count == d }) else {
            throw EvaluationError.invalidArgument(field: "features", message: "all rows must have width \(d)")
        }
        guard (trainY + valY).allSatisfy({ $0 >= 0 && $0 < classes }) else {
            throw EvaluationError.invalidArgument(field: "labels", message: "must lie in 0..<\(classes)")
        }
        var mean = [Float](repeating: 0, count: d)
        var std = [Float](repeating: 0, count: d)
        for x in trainX { for j in 0..<d { mean[j] += x[j] } }
        for j in 0..<d { mean[j] /= Float(trainX.count) }
        for x in trainX { for j in 0..<d { let z = x[j] - mean[j]; std[j] += z * z } }
        for j in 0..<d { std[j] = max((std[j] / Float(trainX.count)).squareRoot(), 1e-6) }
        func standardize(_ rows: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: rows.count * d)
            for (i, x) in rows.enumerated() { for j in 0..<d { out[i * d + j] = (x[j] - mean[j]) / std[j] } }
            return out
        }
        let xt = standardize(trainX)
        let xv = standardize(valX)
        var best: (Float, Double, [Float], [Float])? = nil
        for lambda in lambdas {
            let (w, b) = LinearProbe.fit(x: xt, y: trainY, n: trainX.count, d: d, k: classes, lambda: lambda,
                                         iterations: iterations, lr: learningRate)
            let acc = LinearProbe.accuracy(x: xv, y: valY, n: valX.count, d: d, k: classes, w: w, b: b)
            if best == nil || acc > best!.1 { best = (lambda, acc, w, b) }
        }
        let (lambda, valAcc, w, b) = best!
        self.classes = classes
        self.dimension = d
        self.weights = w
        self.bias = b
        self.featureMean = mean
        self.featureStd = std
        self.result = Result(lambda: lambda, validationAccuracy: valAcc,
                             trainAccuracy: LinearProbe.accuracy(x: xt, y: trainY, n: trainX.count, d: d, k: classes, w: w, b: b))
    }

    /// Predicted classes of feature rows. // [N, D] -> [N]
    public func predict(_ rows: [[Float]]) -> [Int] {
        var x = [Float](repeating: 0, count: rows.count * dimension)
        for (i, r) in rows.enumerated() { for j in 0..<dimension { x[i * dimension + j] = (r[j] - featureMean[j]) / featureStd[j] } }
        let logits = LinearProbe.logits(x: x, n: rows.count, d: dimension, k: classes, w: weights, b: bias)
        return (0..<rows.count).map { i in
            var best = 0
            for c in 1..<classes where logits[i * classes + c] > logits[i * classes + best] { best = c }
            return best
        }
    }

    /// Accuracy on labelled rows.
    public func accuracy(_ rows: [[Float]], _ labels: [Int]) -> Double {
        let p = predict(rows)
        return Double(zip(p, labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
    }

    static func logits(x: [Float], n: Int, d: Int, k: Int, w: [Float], b: [Float]) -> [Float] {
        var z = [Float](repeating: 0, count: n * k)
        for i in 0..<n { for c in 0..<k { z[i * k + c] = b[c] } }
        BLAS.gemm(false, false, n, k, d, 1, x, d, w, k, 1, &z, k)
        return z
    }

    static func accuracy(x: [Float], y: [Int], n: Int, d: Int, k: Int, w: [Float], b: [Float]) -> Double {
        let z = logits(x: x, n: n, d: d, k: k, w: w, b: b)
        var correct = 0
        for i in 0..<n {
            var best = 0
            for c in 1..<k where z[i * k + c] > z[i * k + best] { best = c }
            if best == y[i] { correct += 1 }
        }
        return Double(correct) / Double(n)
    }

    /// Minimises mean cross-entropy + lambda/2 |W|^2 by Nesterov-accelerated gradient descent.
    static func fit(x: [Float], y: [Int], n: Int, d: Int, k: Int, lambda: Float, iterations: Int, lr: Float) -> ([Float], [Float]) {
        var w = [Float](repeating: 0, count: d * k)
        var b = [Float](repeating: 0, count: k)
        var vw = w, vb = b
        let mu: Float = 0.9
        for _ in 0..<iterations {
            // Look-ahead point.
            let wl = (0..<(d * k)).map { w[$0] + mu * vw[$0] }
            let bl = (0..<k).map { b[$0] + mu * vb[$0] }
            var p = logits(x: x, n: n, d: d, k: k, w: wl, b: bl)
            for i in 0..<n {
                var m = -Float.infinity
                for c in 0..<k { m = max(m, p[i * k + c]) }
                var s: Float = 0
                for c in 0..<k { p[i * k + c] = expf(p[i * k + c] - m); s += p[i * k + c] }
                for c in 0..<k { p[i * k + c] /= s }
                p[i * k + y[i]] -= 1
            }
            // grad W = X^T (P - Y) / n + lambda W
            var gw = wl.map { $0 * lambda }
            BLAS.gemm(true, false, d, k, n, 1 / Float(n),
                        x, d, p, k, 1, &gw, k)
            var gb = [Float](repeating: 0, count: k)
            for i in 0..<n { for c in 0..<k { gb[c] += p[i * k + c] / Float(n) } }
            for j in 0..<(d * k) { vw[j] = mu * vw[j] - lr * gw[j]; w[j] += vw[j] }
            for c in 0..<k { vb[c] = mu * vb[c] - lr * gb[c]; b[c] += vb[c] }
        }
        return (w, b)
    }
}
