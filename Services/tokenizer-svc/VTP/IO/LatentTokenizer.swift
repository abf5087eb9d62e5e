import ComputeCore
import Datasets

/// What a generator (and evaluation) needs from any trained tokenizer (VTP, RecTok): images <->
/// latents on a token grid, plus what it was trained on. Latents are [B, grid·grid, d]; images
/// are RGB with values in [0, 1]. Checkpoints of either kind load with `LatentTokenizers.load`
/// (RecTok library, which sees both).
public protocol LatentTokenizer: AnyObject, Sendable {
    /// Latent shape per image: [grid, grid, d].
    var latentShape: [Int] { get }
    /// Image side the tokenizer reads and writes.
    var imageSize: Int { get }
    /// The resolved preset it was trained from, e.g. `vtp-fmnist32-s`, `rectok-fmnistc32-s`.
    var presetName: String { get }
    /// Catalog name of its training dataset (`DatasetCatalog`), e.g. `fmnist-color`.
    var datasetName: String { get }
    /// Fraction of the train split it held out for validation (evaluation scores those images).
    var validationFraction: Double { get }
    /// Timestep shift s with which the tokenizer itself noised its latents in training, which a
    /// generator on these latents must reuse (METHODS.md §2: "one shift rule in both places");
    /// nil when the tokenizer was not trained on a flow schedule (VTP: the generator keeps its own).
    var latentNoiseShift: Float? { get }
    /// Images -> latents and, when the tokenizer has one, a per-image summary embedding (VTP's
    /// final-normed CLS [B, D]; nil for RecTok). Evaluation's CLS probe reads it.
    func encodeWithSummary(_ images: [ImageBuffer]) throws -> (latents: Tensor, summary: Tensor?)
    /// The text-aligned head (a CLIP head), if the tokenizer was trained with one (evaluation's
    /// held-out-template text classification); nil otherwise.
    var textAlignment: (any TextAlignedTokenizer)? { get }
    /// Images (imageSize x imageSize) -> latents [B, grid·grid, d].
    func encode(_ images: [ImageBuffer]) throws -> Tensor
    /// Latents [B, grid·grid, d] -> images.
    func decode(_ latents: Tensor) throws -> [ImageBuffer]
}

/// A tokenizer with a CLIP head: image and text embeddings in one space (VTP variants with CLIP).
public protocol TextAlignedTokenizer: AnyObject, Sendable {
    /// CLIP image embeddings (unit rows) of images [B] -> [B][e].
    func clipEmbedding(_ images: [ImageBuffer]) throws -> [[Float]]
    /// Projected text embeddings (unit rows) of frozen sentence embeddings [N][384] -> [N][e].
    func clipText(_ sentenceEmbeddings: [[Float]]) -> [[Float]]
}

extension LatentTokenizer {
    /// No summary embedding: the latents alone.
    public func encodeWithSummary(_ images: [ImageBuffer]) throws -> (latents: Tensor, summary: Tensor?) {
        (try encode(images), nil)
    }
    /// No text-aligned head.
    public var textAlignment: (any TextAlignedTokenizer)? { nil }
    /// No flow schedule on the latents.
    public var latentNoiseShift: Float? { nil }

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
