/// Batch normalisation over NCHW channels (Ioffe & Szegedy 2015). Names follow PyTorch:
/// `weight`, `bias` (trainable) and `running_mean`, `running_var` (buffers, requiresGrad = false,
/// listed so checkpoints load them).
public final class BatchNorm2d: Module {
    public let weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor
    public let eps: Float, momentum: Float
    /// Batch statistics (and running-stat updates) when true; running statistics when false.
    public var training = false
    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        weight = Tensor.ones([channels]).requiringGrad()
        bias = Tensor.zeros([channels]).requiringGrad()
        runningMean = Tensor.zeros([channels]); runningVar = Tensor.ones([channels])
        self.eps = eps; self.momentum = momentum
    }
    /// x [B, C, H, W] -> [B, C, H, W]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let c = weight.count
        precondition(x.rank == 4 && x.shape[1] == c, "BatchNorm2d: input \(x.shape) must be [B, \(c), H, W]")
        let w = weight.reshaped([1, c, 1, 1]), b = bias.reshaped([1, c, 1, 1])
        if !training {
            let scale = Tensor(uninitialized: [c]), shift = Tensor(uninitialized: [c])
            for i in 0..<c {
                scale.ptr[i] = 1 / (runningVar.ptr[i] + eps).squareRoot()
                shift.ptr[i] = -runningMean.ptr[i] * scale.ptr[i]
            }
            return (x * scale.reshaped([1, c, 1, 1]) + shift.reshaped([1, c, 1, 1])) * w + b
        }
        let mean = x.mean(axes: [0, 2, 3], keepDims: true)
        let centered = x - mean
        let variance = centered.square().mean(axes: [0, 2, 3], keepDims: true)
        let n = Float(x.count / c)
        withNoGrad {
            for i in 0..<c {
                runningMean.ptr[i] = (1 - momentum) * runningMean.ptr[i] + momentum * mean.ptr[i]
                runningVar.ptr[i] = (1 - momentum) * runningVar.ptr[i] + momentum * variance.ptr[i] * n / Swift.max(n - 1, 1)
            }
        }
        return centered * (variance + eps).rsqrt() * w + b
    }
    public func namedParameters() -> [(String, Tensor)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)]
    }
}
