import ComputeCore
import FlowGen

/// RecTok's loss terms and its latent noise draw (METHODS.md §2, "Tokenizer training").
public enum RecTokLosses {
    /// Reparameterised posterior sample z = mean + exp(logVar / 2)·ε. All [B, N, d].
    public static func sample(mean: Tensor, logVar: Tensor, noise: Tensor) -> Tensor {
        mean + (logVar * 0.5).exp() * noise
    }

    /// KL(N(mean, exp(logVar)) || N(0, I)) of a diagonal Gaussian, summed over tokens and channels
    /// and averaged over the batch (the LDM convention): 0.5·Σ(mean² + exp(logVar) - 1 - logVar) / B.
    /// mean, logVar [B, N, d] -> scalar.
    public static func kl(mean: Tensor, logVar: Tensor) -> Tensor {
        (mean.square() + logVar.exp() - 1 - logVar).sum() * (0.5 / Float(mean.shape[0]))
    }

    /// Reconstruction: MSE over all patch values (the paper's perceptual and GAN terms are not used:
    /// the frozen EfficientNet here has no backward pass). pred, target [B, T, 3·p²] -> scalar.
    public static func reconstruction(_ pred: Tensor, _ target: Tensor) -> Tensor { Tensor.mseLoss(pred, target) }

    /// Reconstruction-alignment distillation: mean over all tokens of 1 - cos(pred, teacher) along
    /// the feature axis (visible tokens align, masked ones reconstruct). pred, teacher [B, T, C] -> scalar.
    public static func semantic(_ pred: Tensor, teacher: Tensor) -> Tensor { Tensor.cosineLoss(pred, teacher) }

    /// Noise level of one image from a uniform draw u: t = shift(u, s), the generator's own
    /// timestep shift (`FlowSchedule.shift`), so the tokenizer's x_t follow the generator's schedule.
    public static func noiseLevel(u: Float, shift s: Float) -> Float { FlowSchedule.shift(u, s) }
}
