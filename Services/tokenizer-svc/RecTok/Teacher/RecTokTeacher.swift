import Datasets

/// A frozen, deterministic network whose per-token features the semantic head learns to predict
/// (METHODS.md §2: "teacher features are frozen and deterministic: precompute them once").
public protocol RecTokTeacher: AnyObject, Sendable {
    /// What the run record names (e.g. `efficientnet-lite0/stage5@128`).
    var name: String { get }
    /// Feature width C.
    var channels: Int { get }
    /// Features of each image on a grid x grid token grid, token-major: [N][grid² · C].
    func features(_ images: [ImageBuffer], grid: Int) throws -> [[Float]]
}

extension RecTokConfig {
    /// The configured teacher: EfficientNet-Lite0 (from the models directory), a VTP trunk or the
    /// patch projection.
    public func makeTeacher() throws -> any RecTokTeacher {
        switch teacher.kind {
        case .efficientNetLite0: return try EffNetTeacher(stage: teacher.stage, resolution: teacher.resolution)
        case .vtpTrunk: return try VTPTrunkTeacher(checkpointPath: teacher.checkpoint ?? "")
        case .patchProjection:
            return PatchProjectionTeacher(patch: model.patchSize, channels: model.channels,
                                          outputs: teacher.projectionChannels, seed: train.seed)
        }
    }
}
