import Glibc

/// SGD with momentum (PyTorch semantics: buf = mu*buf + g (buf = g at first), p -= lr*buf;
/// L2 weight decay adds wd*p to g).
public final class SGD: Optimizer {
    public let params: [Tensor]
    public var lr: Float
    public var momentum: Float, weightDecay: Float, nesterov: Bool
    var buf: [Tensor?]

    public init(_ params: [Tensor], lr: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.params = params; self.lr = lr; self.momentum = momentum
        self.weightDecay = weightDecay; self.nesterov = nesterov
        buf = params.map { _ in nil }
    }

    public func step() {
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            let d = Tensor(uninitialized: p.shape)
            for j in 0..<p.count { d.ptr[j] = g.ptr[j] + weightDecay * p.ptr[j] }
            var upd = d
            if momentum != 0 {
                if let b = buf[i] {
                    for j in 0..<p.count { b.ptr[j] = momentum * b.ptr[j] + d.ptr[j] }
                } else { buf[i] = d.copy() }
                let b = buf[i]!
                if nesterov {
                    upd = Tensor(uninitialized: p.shape)
                    for j in 0..<p.count { upd.ptr[j] = d.ptr[j] + momentum * b.ptr[j] }
                } else { upd = b }
            }
            for j in 0..<p.count { p.ptr[j] -= lr * upd.ptr[j] }
        }
    }
}
