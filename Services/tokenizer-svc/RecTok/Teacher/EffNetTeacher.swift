import Datasets
import Evaluation

/// EfficientNet-Lite0 feature maps after one stage (the FD metric's network, shipped offline),
/// resized to the token grid by area averaging (bilinear when the map is smaller than the grid).
public final class EffNetTeacher: RecTokTeacher, @unchecked Sendable {
    public let extractor: EffNetFeatureExtractor
    public let stage: Int
    public let channels: Int
    public var name: String { "efficientnet-lite0/stage\(stage)@\(extractor.resolution)" }

    /// Channels after each stage 1...8.
    static let stageChannels = [16, 24, 40, 80, 112, 192, 320, 1280]

    public init(stage: Int, resolution: Int, path: String? = nil) throws {
        extractor = try EffNetFeatureExtractor(resolution: resolution, path: path)
        self.stage = stage
        channels = EffNetTeacher.stageChannels[stage - 1]
    }

    public func features(_ images: [ImageBuffer], grid: Int) throws -> [[Float]] {
        let f = try extractor.featureMaps(images, stage: stage)     // [N][C·h·w]
        return f.maps.map { FeatureGrid.tokens($0, channels: f.channels, height: f.height, width: f.width, grid: grid) }
    }
}
