import ComputeCore
import Datasets
import VTP

/// A fixed random projection of each patch's pixels followed by tanh: deterministic and
/// instant, with no semantics. For tests and offline smoke runs only (the run record says so).
public final class PatchProjectionTeacher: RecTokTeacher, @unchecked Sendable {
    public let patch: Int, channels: Int
    let imageChannels: Int
    let seed: UInt64
    let weight: Tensor        // [3·p², C]
    /// Names everything the features depend on (the projection is drawn from the seed), so a
    /// store cache keyed by it never mixes two projections.
    public var name: String { "patch-projection/\(channels)/p\(patch)/seed\(seed)" }

    public init(patch: Int, channels imageChannels: Int, outputs: Int, seed: UInt64) {
        self.patch = patch; self.imageChannels = imageChannels; channels = outputs; self.seed = seed
        var rng = RNG(seed: seed &+ 0x7EAC_4E55)
        let p = patch * patch * imageChannels
        weight = rng.normal([p, outputs], std: 2 / Float(p).squareRoot())
    }

    public func features(_ images: [ImageBuffer], grid: Int) throws -> [[Float]] {
        let x = try Patchify.patches(images, patch: patch, channels: imageChannels)    // [N, T, 3·p²]
        try MethodError.checkInput(x.shape[1] == grid * grid, "images", "give \(x.shape[1]) patches, the grid has \(grid * grid)")
        let f = withNoGrad { x.matmul(weight).tanh() }                                  // [N, T, C]
        let a = f.array, per = grid * grid * channels
        return (0..<images.count).map { Array(a[($0 * per)..<(($0 + 1) * per)]) }
    }
}
