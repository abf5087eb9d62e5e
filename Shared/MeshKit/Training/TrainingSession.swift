import Foundation
import RunStore

/// A method library's trainer as the training driver sees it: a step iterator with a
/// checkpoint format. The driver (`TrainingRun`) owns the loop, cancellation, progress,
/// checkpoint cadence, resume, audit and registration; a session only computes.
public protocol TrainingSession: AnyObject {
    /// Optimiser steps completed so far (0 before the first; set by `restore`).
    var completedSteps: Int { get }
    /// The step at which the run is finished.
    var totalSteps: Int { get }
    /// Runs one optimiser step: every loss term (`loss` = the optimised total) and other
    /// metrics, and how many items (images, sequences) it consumed.
    func step() throws -> TrainingStep
    /// Writes a checkpoint the session can `restore` from and the service can serve.
    func saveCheckpoint(to url: URL) throws
    /// Continues from a checkpoint written by `saveCheckpoint` (throws a `ServiceError` when
    /// the checkpoint does not fit this session's configuration).
    func restore(from url: URL) throws
}

/// What one training step reports.
public struct TrainingStep: Sendable {
    /// Loss terms and other scalars, e.g. `["loss": 0.8, "loss_rec": 0.3, "lr": 1e-3]`.
    public var metrics: [String: Double]
    /// Items consumed (images, sequences): the numerator of throughput.
    public var items: Int
    public init(metrics: [String: Double], items: Int) { self.metrics = metrics; self.items = items }
}

/// The run-level settings of one training run (validated by the service).
public struct TrainingPlan: Sendable {
    /// Name the final checkpoint is registered under.
    public var modelName: String
    /// Registry kind, e.g. "vtp-tokenizer", "decode-ar".
    public var kind: String
    /// Media type of the checkpoint artifact.
    public var mediaType: String
    /// The fully resolved configuration (a JSON object), recorded in the audit and the registry.
    public var configJSON: String
    public var seed: UInt64
    /// Models this one starts from or depends on (registry names).
    public var parents: [String]
    /// A checkpoint is stored every this many steps (and always at the end).
    public var checkpointEvery: Int
    /// Continue from the model registered under `modelName` (if there is one).
    public var resume: Bool
    /// Smallest time between two progress events (the last step always reports).
    public var progressInterval: TimeInterval

    public init(modelName: String, kind: String, mediaType: String = "application/x-safetensors",
                configJSON: String, seed: UInt64, parents: [String] = [], checkpointEvery: Int,
                resume: Bool = false, progressInterval: TimeInterval = 0.5) {
        self.modelName = modelName; self.kind = kind; self.mediaType = mediaType; self.configJSON = configJSON
        self.seed = seed; self.parents = parents; self.checkpointEvery = max(checkpointEvery, 1)
        self.resume = resume; self.progressInterval = progressInterval
    }
}

/// What a finished training run produced.
public struct TrainingOutcome: Sendable {
    /// The registry entry of the final checkpoint.
    public var model: ModelRecord
    /// The final checkpoint in the artifact store.
    public var artifact: ArtifactRecord
    /// Completed steps (== the plan's total).
    public var steps: Int
    /// Step the run continued from (0 = from scratch).
    public var resumedFrom: Int
    /// Metrics of the last step (finite values only).
    public var finalMetrics: [String: Double]
    /// Wall time of this attempt.
    public var seconds: Double
}
