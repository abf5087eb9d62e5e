import ComputeCore
import Datasets

/// What a generator needs from any trained tokenizer (VTP, RecTok): images <-> latents on a
/// token grid. Latents are [B, grid·grid, d]; images are RGB with values in [0, 1].
public protocol LatentTokenizer: AnyObject, Sendable {
    /// Latent shape per image: [grid, grid, d].
    var latentShape: [Int] { get }
    /// Image side the tokenizer reads and writes.
    var imageSize: Int { get }
    /// Images (imageSize x imageSize) -> latents [B, grid·grid, d].
    func encode(_ images: [ImageBuffer]) throws -> Tensor
    /// Latents [B, grid·grid, d] -> images.
    func decode(_ latents: Tensor) throws -> [ImageBuffer]
}

extension LatentTokenizer {
    /// Tokens per image and channels per token.
    public var latentTokens: Int { latentShape[0] * latentShape[1] }
    public var latentChannels: Int { latentShape[2] }

    /// Patches [B, T, C·p²] of images that must all be imageSize x imageSize (else `invalidInput`
    /// naming `images[i]`).
    public func checkedPatches(_ images: [ImageBuffer], patch: Int, channels: Int) throws -> Tensor {
        for (i, img) in images.enumerated() where img.width != imageSize || img.height != imageSize {
            throw MethodError.invalidInput(field: "images[\(i)]", message: "is \(img.width)x\(img.height), must be \(imageSize)x\(imageSize)")
        }
        return try Patchify.patches(images, patch: patch, channels: channels)
    }

    /// Throws `invalidInput` naming `latents` unless they are [B, grid·grid, d].
    public func checkLatents(_ latents: Tensor) throws {
        let T = latentTokens, d = latentChannels
        guard latents.rank == 3, latents.shape[1] == T, latents.shape[2] == d else {
            throw MethodError.invalidInput(field: "latents", message: "shape \(latents.shape), expected [B, \(T), \(d)]")
        }
    }
}
