import ComputeCore
import FlowGen
import Foundation

/// The few-step distillation objective (METHODS.md §6, T2I-Distill arXiv 2512.13006).
public enum DistillMethod: String, Codable, Sendable, CaseIterable {
    /// Continuous-time consistency model in TrigFlow form (Lu & Song 2024, sCM).
    case scm
    /// Average-velocity model u(z, r, t) (Geng et al. 2025, MeanFlow).
    case meanflow
}

/// A fully resolved distillation configuration, recorded with every run and checkpoint.
/// Defaults are the study's guidelines; presets scale the budget.
public struct DistillConfig: RecordedConfig, Sendable, Equatable {
    public var preset: String
    public var method: DistillMethod = .scm
    /// Scale applied to t before the student's sinusoidal time features: 1 (the study's advice) or
    /// 1000 (the DiT convention, the ablation that makes sCM's gradient norm grow).
    public var timeInputScale: Float = 1
    /// Classifier-free guidance of the teacher that is distilled into the student (the student
    /// takes no unconditional pass).
    public var guidance: Float = 3
    /// Student sampling steps the model is served with by default (1...4).
    public var sampleSteps: Int = 2

    /// x0 data: this many guided teacher samples (Euler, `teacherSteps` steps) of the training prompts.
    public var dataCount: Int = 2048
    public var teacherSteps: Int = 28

    // Optimisation.
    public var steps: Int = 2000
    public var batchSize: Int = 32
    public var lr: Float = 1e-4
    public var beta1: Float = 0.9
    public var beta2: Float = 0.99
    /// Global gradient-norm clip (sCM: 0.1).
    public var gradClip: Float = 0.1
    public var seed: UInt64 = 0
    public var checkpointEvery: Int = 500

    // sCM (TrigFlow).
    /// Data standard deviation σ_d of TrigFlow.
    public var sigmaD: Float = 0.5
    /// τ = atan(exp(P)/σ_d), P ~ N(tauMean, tauStd).
    public var tauMean: Float = 0.2
    public var tauStd: Float = 1.6
    /// Tangent warm-up: r = min(1, step / tangentWarmup).
    public var tangentWarmup: Int = 4000
    /// Tangent normalisation g / (‖g‖ + tangentNormC) (per sample).
    public var tangentNormC: Float = 0.1

    // MeanFlow.
    /// (r, t) from two sorted logit-normal(mean, std) draws.
    public var logitMean: Float = -0.4
    public var logitStd: Float = 1
    /// Fraction of samples with r = t (plain flow matching on the guided teacher velocity).
    public var equalFraction: Float = 0.25
    /// Loss power γ: the per-sample loss is ‖Δ‖^γ, optimised as sg(w)·‖Δ‖²/D with
    /// w = 1/(‖Δ‖²/D + 1e-3)^(1 - γ/2) (γ = 2: plain MSE).
    public var lossPower: Float = 2

    public init(preset: String, method: DistillMethod) { self.preset = preset; self.method = method }

    /// The two time-input scales the study compares.
    public static let allowedTimeInputScales: [Float] = [1, 1000]
    /// Student sampling steps a student serves.
    public static let sampleStepRange = 1...4

    /// Checks ranges; throws `MethodError.invalidConfig` naming the field and the limit.
    public func validate() throws {
        try MethodError.check(Self.allowedTimeInputScales.contains(timeInputScale), "time_input_scale",
                 "must be 1 or 1000, got \(timeInputScale)")
        try MethodError.check(Self.sampleStepRange.contains(sampleSteps), "sample_steps", "must be in 1...4, got \(sampleSteps)")
        try MethodError.check(guidance >= 0 && guidance <= 20, "guidance", "must be in 0...20, got \(guidance)")
        try MethodError.check(steps >= 1 && steps <= 10_000_000, "steps", "must be in 1...10000000, got \(steps)")
        try MethodError.check(batchSize >= 1 && batchSize <= 4096, "batch_size", "must be in 1...4096, got \(batchSize)")
        try MethodError.check(lr > 0 && lr < 1, "lr", "must be in (0, 1), got \(lr)")
        try MethodError.check(gradClip >= 0, "grad_clip", "must be >= 0 (0 = no clipping), got \(gradClip)")
        try MethodError.check(sigmaD > 0, "sigma_d", "must be > 0, got \(sigmaD)")
        try MethodError.check(tauStd > 0 && logitStd > 0, "tau_std/logit_std", "must be > 0")
        try MethodError.check(tangentWarmup >= 0, "tangent_warmup", "must be >= 0")
        try MethodError.check(tangentNormC > 0, "tangent_norm_c", "must be > 0")
        try MethodError.check(equalFraction >= 0 && equalFraction <= 1, "equal_fraction", "must be in [0, 1], got \(equalFraction)")
        try MethodError.check(lossPower > 0 && lossPower <= 2, "loss_power", "must be in (0, 2], got \(lossPower)")
        try MethodError.check(dataCount >= 1 && dataCount <= 100_000, "data_count", "must be in 1...100000, got \(dataCount)")
        try MethodError.check(teacherSteps >= 1 && teacherSteps <= 1000, "teacher_steps", "must be in 1...1000, got \(teacherSteps)")
        try MethodError.check(checkpointEvery >= 1, "checkpoint_every", "must be >= 1")
    }
}

