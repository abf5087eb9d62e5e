import ComputeCore

/// The VTP tokenizer (METHODS.md §1): student trunk + bottleneck + pixel decoder + CLIP head +
/// DINO/iBOT head, and an EMA teacher (trunk + DINO head).
/// Checkpoint names: `encoder.*`, `bottleneck.weight`, `decoder.*`, `clip.*`, `dino_head.*`,
/// `teacher.encoder.*`, `teacher.dino_head.*`.
public final class VTPModel: Module {
    public let config: VTPModelConfig
    public let encoder: ViTEncoder
    public let bottleneck: Linear          // D -> d, no bias
    public let decoder: PixelDecoder
    public let clip: CLIPHead
    public let dinoHead: DINOHead
    public let teacherEncoder: ViTEncoder
    public let teacherHead: DINOHead

    public init(_ c: VTPModelConfig, lossConfig: VTPLossConfig = VTPLossConfig(), seed: UInt64) {
        config = c
        var rng = RNG(seed: seed)
        encoder = ViTEncoder(c, rng: &rng)
        bottleneck = Linear(c.width, c.latentChannels, bias: false, rng: &rng)
        decoder = PixelDecoder(c, rng: &rng)
        clip = CLIPHead(width: c.width, textDim: c.textDim, embedDim: c.clipDim,
                        logitScaleInit: lossConfig.logitScaleInit, rng: &rng)
        dinoHead = DINOHead(inDim: c.width, hidden: c.dinoHidden, bottleneck: c.dinoBottleneck,
                            prototypes: c.prototypes, rng: &rng)
        var trng = RNG(seed: seed &+ 1)
        teacherEncoder = ViTEncoder(c, rng: &trng)
        teacherHead = DINOHead(inDim: c.width, hidden: c.dinoHidden, bottleneck: c.dinoBottleneck,
                               prototypes: c.prototypes, rng: &trng)
        // Teacher starts as a copy of the student and never receives gradients.
        for (t, s) in zip(teacherParameters, studentSSLParameters) { t.assign(s) }
        for t in teacherParameters { t.requiresGrad = false }
    }

    /// Student parameters that the teacher mirrors (trunk + DINO head), in matching order.
    public var studentSSLParameters: [Tensor] { encoder.parameters() + dinoHead.parameters() }
    public var teacherParameters: [Tensor] { teacherEncoder.parameters() + teacherHead.parameters() }
    /// Everything the optimiser updates.
    public var trainableParameters: [Tensor] {
        encoder.parameters() + bottleneck.parameters() + decoder.parameters() + clip.parameters() + dinoHead.parameters()
    }

    /// Latents of patches [B, T, 3·p²]: final-normed patch tokens through the bottleneck. -> [B, T, d]
    public func latents(fromTokens tokens: Tensor) -> Tensor {
        let T = tokens.shape[1] - 1
        return bottleneck(tokens.slice(axis: 1, 1, T + 1))
    }

    /// Encodes patches to latents [B, T, d] and the final-normed CLS [B, D].
    public func encode(_ patches: Tensor) -> (latents: Tensor, cls: Tensor) {
        let tokens = encoder(patches, grid: config.grid)
        let B = tokens.shape[0]
        return (latents(fromTokens: tokens), tokens.slice(axis: 1, 0, 1).reshaped([B, config.width]))
    }

    /// Decodes latents [B, T, d] to patches [B, T, 3·p²].
    public func decode(_ z: Tensor) -> Tensor { decoder(z) }

    /// EMA update of the teacher: t <- m·t + (1-m)·s (METHODS.md §1).
    public func updateTeacher(momentum m: Float) {
        precondition(m >= 0 && m <= 1, "updateTeacher: momentum must be in [0, 1], got \(m)")
        for (t, s) in zip(teacherParameters, studentSSLParameters) {
            let tp = t.ptr, sp = s.ptr
            for j in 0..<t.count { tp[j] = m * tp[j] + (1 - m) * sp[j] }
        }
    }

    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], [("encoder", encoder), ("bottleneck", bottleneck), ("decoder", decoder), ("clip", clip),
                               ("dino_head", dinoHead), ("teacher.encoder", teacherEncoder),
                               ("teacher.dino_head", teacherHead)])
    }
}
