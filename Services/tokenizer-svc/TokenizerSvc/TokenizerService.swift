import ComputeCore
import Datasets
import Foundation
import MeshKit
import MeshProto
import RunStore
import VTP

/// tokenizer-svc handlers: adapt `tokenizer.{train,encode,decode}` messages to the tokenizer
/// method libraries: VTP (`vtp-*` presets, METHODS.md §1) and RecTok (`rectok-*`, §2). Encode and
/// decode serve a registered checkpoint of either kind (`TokenizerLoader`).
public enum TokenizerService {
    /// Largest batch accepted by encode/decode.
    public static let maxBatch = 256
    /// Largest step count accepted by train.
    public static let maxSteps: Int64 = 1_000_000
    /// Largest `train_limit` (images) a tokenizer.train request may ask for.
    public static let maxTrainLimit: Int64 = 10_000_000
    /// Registry kind of a trained VTP tokenizer (RecTok: `rectokModelKind`).
    public static let modelKind = "vtp-tokenizer"
    /// Media type of a VTP checkpoint artifact (RecTok: `rectokMediaType`).
    public static let mediaType = "application/vnd.latentmesh.vtp+safetensors"

    /// The three methods; `loader` caches loaded checkpoints.
    public static func methods(loader: TokenizerLoader) -> [ServiceMethod] {
        [
            .typed("tokenizer.train", summary: "train a tokenizer preset (vtp-* or rectok-*); checkpoints go to the artifact store",
                   isLongRunning: true) { (req: Latentmesh_V1_TokenizerTrainRequest, ctx) in
                try await train(req, context: ctx)
            },
            .typed("tokenizer.encode", summary: "images (PNG) -> latents with a named checkpoint") {
                (req: Latentmesh_V1_EncodeRequest, ctx) in
                try await encode(req, context: ctx, loader: loader)
            },
            .typed("tokenizer.decode", summary: "latents -> images (PNG) with a named checkpoint") {
                (req: Latentmesh_V1_DecodeLatentsRequest, ctx) in
                try await decode(req, context: ctx, loader: loader)
            },
        ]
    }

    static func encode(_ req: Latentmesh_V1_EncodeRequest, context: RunContext,
                       loader: TokenizerLoader) async throws -> Latentmesh_V1_EncodeResponse {
        guard !req.imagesPng.isEmpty else { throw ServiceError.invalid("images_png", "must not be empty (1...\(maxBatch) images)") }
        guard req.imagesPng.count <= maxBatch else { throw ServiceError.outOfRange("images_png.count", req.imagesPng.count, 1...maxBatch) }
        let tok = try loader.tokenizer(req.checkpointName, context: context)
        let size = tok.imageSize
        var images: [ImageBuffer] = []
        for (i, png) in req.imagesPng.enumerated() {
            let bytes = [UInt8](png)
            // The header's size is checked before any pixels are allocated.
            if let (w, h) = try? PNGCodec.dimensions(bytes), w != size || h != size {
                throw ServiceError.invalid("images_png[\(i)]", "header says \(w)x\(h), must be \(size)x\(size) for checkpoint '\(req.checkpointName)'")
            }
            let img: ImageBuffer
            do { img = try PNGCodec.decode(bytes, maxPixels: size * size) } catch {
                throw ServiceError.invalid("images_png[\(i)]", "is not a decodable PNG (\(error))")
            }
            guard img.width == size && img.height == size else {
                throw ServiceError.invalid("images_png[\(i)]", "is \(img.width)x\(img.height), must be \(size)x\(size) for checkpoint '\(req.checkpointName)'")
            }
            images.append(img.rgb())
        }
        let z = try await context.compute { try tok.encode(images) }     // [B, T, d]
        let shape = tok.latentShape.map { Int32($0) }
        let per = z.count / images.count, values = z.array
        var resp = Latentmesh_V1_EncodeResponse()
        resp.latents = (0..<images.count).map { b in
            var l = Latentmesh_V1_Latent()
            l.shape = shape
            l.values = Array(values[(b * per)..<((b + 1) * per)])
            return l
        }
        return resp
    }

    static func decode(_ req: Latentmesh_V1_DecodeLatentsRequest, context: RunContext,
                       loader: TokenizerLoader) async throws -> Latentmesh_V1_DecodeLatentsResponse {
        guard !req.latents.isEmpty else { throw ServiceError.invalid("latents", "must not be empty (1...\(maxBatch) latents)") }
        guard req.latents.count <= maxBatch else { throw ServiceError.outOfRange("latents.count", req.latents.count, 1...maxBatch) }
        let tok = try loader.tokenizer(req.checkpointName, context: context)
        let shape = tok.latentShape
        let per = shape.reduce(1, *)
        var flat: [Float] = []
        flat.reserveCapacity(per * req.latents.count)
        for (i, l) in req.latents.enumerated() {
            guard l.shape.map(Int.init) == shape else {
                throw ServiceError.invalid("latents[\(i)].shape", "is \(l.shape), must be \(shape) for checkpoint '\(req.checkpointName)'")
            }
            guard l.values.count == per else {
                throw ServiceError.invalid("latents[\(i)].values", "has \(l.values.count) values, shape \(shape) needs \(per)")
            }
            guard l.values.allSatisfy(\.isFinite) else { throw ServiceError.invalid("latents[\(i)].values", "must be finite") }
            flat += l.values
        }
        let images = try await context.compute {
            try tok.decode(Tensor(flat, shape: [req.latents.count, shape[0] * shape[1], shape[2]]))   // [B, T, d] -> images
        }
        var resp = Latentmesh_V1_DecodeLatentsResponse()
        resp.imagesPng = try images.map { Data(try PNGCodec.encode($0)) }
        return resp
    }
}
