import ComputeCore
import Datasets
import Evaluation
import Foundation
import VTP

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
    /// The configured teacher: EfficientNet-Lite0 (from the models directory) or the patch projection.
    public func makeTeacher() throws -> any RecTokTeacher {
        switch teacher.kind {
        case .efficientNetLite0: return try EffNetTeacher(stage: teacher.stage, resolution: teacher.resolution)
        case .patchProjection:
            return PatchProjectionTeacher(patch: model.patchSize, channels: model.channels,
                                          outputs: teacher.projectionChannels, seed: train.seed)
        }
    }
}

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

/// A fixed random projection of each patch's pixels followed by tanh: deterministic and
/// instant, with no semantics. For tests and offline smoke runs only (the run record says so).
public final class PatchProjectionTeacher: RecTokTeacher, @unchecked Sendable {
    public let patch: Int, channels: Int
    let imageChannels: Int
    let weight: Tensor        // [3·p², C]
    public var name: String { "patch-projection/\(channels)" }

    public init(patch: Int, channels imageChannels: Int, outputs: Int, seed: UInt64) {
        self.patch = patch; self.imageChannels = imageChannels; channels = outputs
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

/// Resizing a channel-major feature map to the token grid.
public enum FeatureGrid {
    /// map [C·h·w] (channel-major) -> tokens [grid²·C] (token-major, row-major grid). Each output
    /// cell averages the input cells it covers when h, w >= grid (exact area pooling when they
    /// divide), otherwise samples bilinearly at the cell centre (align_corners = false).
    public static func tokens(_ map: [Float], channels C: Int, height h: Int, width w: Int, grid g: Int) -> [Float] {
        precondition(map.count == C * h * w, "FeatureGrid: \(map.count) values for [\(C), \(h), \(w)]")
        var out = [Float](repeating: 0, count: g * g * C)
        for gy in 0..<g { for gx in 0..<g {
            let o = (gy * g + gx) * C
            if h >= g && w >= g {
                let y0 = gy * h / g, y1 = max(y0 + 1, (gy + 1) * h / g)
                let x0 = gx * w / g, x1 = max(x0 + 1, (gx + 1) * w / g)
                let n = Float((y1 - y0) * (x1 - x0))
                for c in 0..<C {
                    var s: Float = 0
                    for y in y0..<y1 { for x in x0..<x1 { s += map[(c * h + y) * w + x] } }
                    out[o + c] = s / n
                }
            } else {
                func coord(_ i: Int, _ n: Int) -> (Int, Int, Float) {
                    let f = min(max((Float(i) + 0.5) * Float(n) / Float(g) - 0.5, 0), Float(n - 1))
                    let lo = Int(f)
                    return (lo, min(lo + 1, n - 1), f - Float(lo))
                }
                let (ya, yb, fy) = coord(gy, h), (xa, xb, fx) = coord(gx, w)
                for c in 0..<C {
                    let base = c * h * w
                    let top = map[base + ya * w + xa] * (1 - fx) + map[base + ya * w + xb] * fx
                    let bottom = map[base + yb * w + xa] * (1 - fx) + map[base + yb * w + xb] * fx
                    out[o + c] = top * (1 - fy) + bottom * fy
                }
            }
        } }
        return out
    }
}
