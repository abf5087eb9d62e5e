import ComputeCore
import Datasets
import Foundation
import VTP

/// The final-normed patch tokens of a trained VTP tokenizer's trunk (METHODS.md §2: "or the trunk
/// features of a trained VTP tokenizer"), resized to the token grid when the grids differ.
public final class VTPTrunkTeacher: RecTokTeacher, @unchecked Sendable {
    public let model: VTPModel
    public let config: VTPConfig
    public let source: String
    public var channels: Int { config.model.width }
    public var name: String { "vtp-trunk/\(config.preset)@\(source)" }
    private let lock = NSLock()

    /// Loads the trunk from a checkpoint written by `VTPCheckpoint.save`.
    public init(checkpointPath: String) throws {
        (model, config) = try VTPCheckpoint.loadModel(from: checkpointPath)
        source = URL(fileURLWithPath: checkpointPath).lastPathComponent
    }

    public func features(_ images: [ImageBuffer], grid: Int) throws -> [[Float]] {
        let m = config.model, size = m.imageSize
        let resized = images.map { $0.width == size && $0.height == size ? $0 : $0.resized(to: size) }
        let x = try Patchify.patches(resized, patch: m.patchSize, channels: m.channels)       // [N, T', 3·p²]
        lock.lock()
        let tokens = withNoGrad { model.encoder(x, grid: m.grid).detached() }              // [N, 1 + T', D]
        lock.unlock()
        let T = m.grid * m.grid, D = m.width, a = tokens.array
        return (0..<images.count).map { n in
            var map = [Float](repeating: 0, count: D * T)                                  // [D, g', g']
            for t in 0..<T { for c in 0..<D { map[c * T + t] = a[(n * (T + 1) + 1 + t) * D + c] } }
            return FeatureGrid.tokens(map, channels: D, height: m.grid, width: m.grid, grid: grid)
        }
    }
}
