/// 2-D convolution layer (NCHW); weight [out, in/groups, k, k], bias [out].
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int, groups: Int
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, bias: Bool = true, rng: inout RNG) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        let fanIn = inChannels / groups * kernel * kernel
        let k = 1 / Float(fanIn).squareRoot()
        weight = rng.uniform([outChannels, inChannels / groups, kernel, kernel], -k, k).requiringGrad()
        self.bias = bias ? rng.uniform([outChannels], -k, k).requiringGrad() : nil
        self.stride = stride; self.padding = padding; self.groups = groups
    }
    /// x [B, in, H, W] -> [B, out, H', W']
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv2d(x, weight, bias, stride: stride, padding: padding, groups: groups)
    }
    public func namedParameters() -> [(String, Tensor)] { collectParameters([("weight", weight), ("bias", bias)], []) }
}
