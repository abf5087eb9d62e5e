import ComputeCore
import FlowGen

/// The frozen teacher with classifier-free guidance: v = v_u + w·(v_c - v_u) in one stacked
/// forward (conditional rows, then the null text). Never taped.
public struct GuidedTeacher {
    public let model: FlowGenDiT
    public let guidance: Float

    public init(model: FlowGenDiT, guidance: Float) {
        model.setFrozen(true)
        self.model = model; self.guidance = guidance
    }

    /// Guided velocity. x [B, T, C], t [B], text (B prompts) -> [B, T, C]
    public func velocity(_ x: Tensor, t: Tensor, text: TextContext) -> Tensor {
        withNoGrad {
            let B = x.shape[0]
            if guidance == 1 { return model(x, t: t, text: text).detached() }
            let null = model.nullContext(batch: B, tokens: text.padding.shape[1])
            let both = model(Tensor.concat([x, x], axis: 0), t: Tensor.concat([t, t], axis: 0),
                             text: TextContext.concat(text, null))
            let h = both.split(axis: 0, sizes: [B, B])
            return FlowSchedule.guide(conditional: h[0], unconditional: h[1], scale: guidance).detached()
        }
    }
}
