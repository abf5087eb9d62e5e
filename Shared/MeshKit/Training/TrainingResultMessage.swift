import MeshProto

/// A training method's result message: the fields every training run fills the same way (the
/// final checkpoint, the last step's metrics and the completed step count).
public protocol TrainingResultMessage: Sendable {
    var checkpoint: Latentmesh_V1_ArtifactRef { get set }
    var finalMetrics: [String: Double] { get set }
    var steps: Int64 { get set }
}

extension Latentmesh_V1_TokenizerTrainResult: TrainingResultMessage {}
extension Latentmesh_V1_GeneratorTrainResult: TrainingResultMessage {}
extension Latentmesh_V1_DistillTrainResult: TrainingResultMessage {}

extension TrainingRun {
    /// Runs `session` like `run(_:plan:context:)` and returns `result` (its method-specific fields
    /// already set) with the final checkpoint, final metrics and steps of the outcome.
    public static func run<Result: TrainingResultMessage>(_ session: TrainingSession, plan: TrainingPlan, context: RunContext,
                                                          result: Result) async throws -> Result {
        let out = try await run(session, plan: plan, context: context)
        var r = result
        r.checkpoint = .init(out.artifact)
        r.finalMetrics = out.finalMetrics
        r.steps = Int64(out.steps)
        return r
    }
}
