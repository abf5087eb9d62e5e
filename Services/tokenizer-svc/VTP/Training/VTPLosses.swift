import ComputeCore

/// The VTP loss terms (METHODS.md §1, "Losses").
public enum VTPLosses {
    /// Symmetric InfoNCE (Radford et al. 2021): logits = exp(s)·I·Tᵀ, mean of the image->text
    /// and text->image cross-entropies with the diagonal as targets. img, txt [B, e] unit rows.
    public static func clip(image: Tensor, text: Tensor, logitScale: Tensor, maxScale: Float) -> Tensor {
        let B = image.shape[0]
        let logits = image.matmul(text, transposeB: true) * logitScale.clamp(0, maxScale).exp()  // [B, B]
        let targets = Array(0..<B)
        return (Tensor.crossEntropy(logits, targets: targets)
              + Tensor.crossEntropy(logits.transposed(), targets: targets)) * 0.5
    }

    /// Reconstruction loss on patches: "l1", "l2" or "l1+l2".
    public static func reconstruction(_ pred: Tensor, _ target: Tensor, kind: String) -> Tensor {
        switch kind {
        case "l1": return Tensor.l1Loss(pred, target)
        case "l2": return Tensor.mseLoss(pred, target)
        default: return Tensor.l1Loss(pred, target) + Tensor.mseLoss(pred, target)
        }
    }

    /// Teacher targets: softmax((t - center) / τ_t), no gradient. logits [N, K], center [K].
    public static func teacherProbs(_ logits: Tensor, center: [Float], temperature: Float) -> Tensor {
        withNoGrad {
            let K = logits.shape[1]
            return ((logits.detached() - Tensor(center, shape: [K])) / temperature).softmax(axis: -1)
        }
    }

    /// Cross-entropy H(p_t, p_s) = -Σ p_t log softmax(s/τ_s), mean over rows. student [N, K], teacher [N, K].
    public static func distillation(student: Tensor, teacher: Tensor, studentTemp: Float) -> Tensor {
        -((student / studentTemp).logSoftmax(axis: -1) * teacher).sum(axis: -1).mean()
    }

    /// DINO loss (Caron et al. 2021, Eq. 3): every student crop against every teacher global crop
    /// except its own view (the two global teacher outputs are "swapped"); mean over pairs.
    /// student: crops in order [global0, global1, locals...], each [N, K]; teacher: [global0, global1].
    public static func dino(student: [Tensor], teacher: [Tensor], studentTemp: Float) -> Tensor {
        var total: Tensor?
        var pairs = 0
        for (iq, t) in teacher.enumerated() {
            for (v, s) in student.enumerated() where v != iq {
                let l = distillation(student: s, teacher: t, studentTemp: studentTemp)
                total = total.map { $0 + l } ?? l
                pairs += 1
            }
        }
        return total! / Float(pairs)
    }

    /// Centre update: c <- m·c + (1-m)·mean over rows of the teacher logits [N, K].
    public static func updatedCenter(_ center: [Float], teacherLogits: [Tensor], momentum m: Float) -> [Float] {
        let K = center.count
        var mean = [Float](repeating: 0, count: K)
        var n = 0
        for t in teacherLogits {
            let rows = t.shape[0], p = t.ptr
            for r in 0..<rows { for k in 0..<K { mean[k] += p[r * K + k] } }
            n += rows
        }
        guard n > 0 else { return center }
        return (0..<K).map { m * center[$0] + (1 - m) * mean[$0] / Float(n) }
    }
}
