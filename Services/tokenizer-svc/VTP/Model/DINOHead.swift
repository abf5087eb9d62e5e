import ComputeCore

/// Shared DINO/iBOT projection head (Caron et al. 2021; Zhou et al. 2022): 3-layer MLP with
/// GELU -> bottleneck -> L2 norm -> weight-normalised linear to K prototypes.
/// Names: `mlp.0`, `mlp.1`, `mlp.2`, `last_layer`.
public final class DINOHead: Module {
    public let l0: Linear, l1: Linear, l2: Linear
    public let lastLayer: WeightNormLinear

    public init(inDim: Int, hidden: Int, bottleneck: Int, prototypes: Int, rng: inout RNG) {
        l0 = Linear(inDim, hidden, rng: &rng)
        l1 = Linear(hidden, hidden, rng: &rng)
        l2 = Linear(hidden, bottleneck, rng: &rng)
        lastLayer = WeightNormLinear(bottleneck, prototypes, rng: &rng)
    }

    /// x [N, D] -> prototype scores [N, K].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        lastLayer(l2(l1(l0(x).gelu()).gelu()).l2Normalized())
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], [("mlp.0", l0), ("mlp.1", l1), ("mlp.2", l2), ("last_layer", lastLayer)])
    }
}

/// CLIP head on the full-width CLS plus the trainable projection of the frozen text embedding
/// (LiT-style locked text, METHODS.md §1 deviation) and the learnable logit scale.
/// Names: `visual_proj`, `text_proj`, `logit_scale`.
public final class CLIPHead: Module {
    public let visualProj: Linear, textProj: Linear
    public let logitScale: Tensor   // [1], log of the inverse temperature

    public init(width: Int, textDim: Int, embedDim: Int, logitScaleInit: Float, rng: inout RNG) {
        visualProj = Linear(width, embedDim, bias: false, rng: &rng)
        textProj = Linear(textDim, embedDim, bias: false, rng: &rng)
        logitScale = Tensor([logitScaleInit], shape: [1]).requiringGrad()
    }

    /// CLS [B, D] -> unit image embeddings [B, e].
    public func image(_ cls: Tensor) -> Tensor { visualProj(cls).l2Normalized() }
    /// Frozen text embeddings [B, 384] -> unit text embeddings [B, e].
    public func text(_ t: Tensor) -> Tensor { textProj(t).l2Normalized() }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([("logit_scale", logitScale)], [("visual_proj", visualProj), ("text_proj", textProj)])
    }
}
