import ComputeCore
import Datasets
import FlowGen
import Foundation
import MeshKit
import Models
import RunStore
import VTP

/// Content-addressed caches of what generator training reads, so a training step never runs the
/// tokenizer's encoder or MiniLM: dataset latents once per (tokenizer checkpoint, dataset, image
/// set) and MiniLM token features once per caption set. Each cache file is an artifact; the
/// registry maps a key derived from its inputs (`cache.latents.<hash>`, `cache.text.<hash>`,
/// kinds `latent-cache` / `text-cache`) to it.
struct TrainingDataCache {
    let registry: ModelRegistry
    let context: RunContext
    static let encodeBatch = 256

    static func key(_ parts: [String]) -> String { String(SHA256.hex(Data(parts.joined(separator: "\u{1}").utf8)).prefix(24)) }

    /// A cached safetensors file by registry name, if present.
    func cached(_ name: String) throws -> SafetensorsFile? {
        guard let url = try registry.cachedFile(name) else { return nil }
        return try? SafetensorsFile(path: url.path)
    }

    /// Stores `tensors` as an artifact registered under `name`.
    func store(_ name: String, kind: String, tensors: [(String, Tensor)], metadata: [String: String], parents: [String]) throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try Safetensors.write(tensors, metadata: metadata, to: tmp.path)
        try registry.storeCachedFile(name, file: tmp, kind: kind, service: "generator", parents: parents, runID: context.runID)
    }

    /// Raw latents of `indices` of `dataset` under the tokenizer. -> [N, T, C]
    func latents(tokenizer tok: any LatentTokenizer, tokenizerSHA: String, tokenizerName: String, dataset: any ImageDataset,
                 datasetName: String, indices: [Int]) async throws -> Tensor {
        let idxHash = SHA256.hex(Data(indices.map(String.init).joined(separator: ",").utf8))
        let name = "cache.latents." + Self.key(["flowgen.latents.v1", tokenizerSHA, datasetName, String(tok.imageSize), idxHash])
        if let f = try cached(name), let z = try? f.tensor("latents"), z.shape[0] == indices.count {
            context.logger.info("latent cache hit \(name) (\(indices.count) images)")
            return z.copy()
        }
        let T = tok.latentShape[0] * tok.latentShape[1], C = tok.latentShape[2]
        let out = Tensor(uninitialized: [indices.count, T, C])
        var start = 0
        while start < indices.count {
            try context.checkCancelled()
            let chunk = Array(indices[start..<min(start + Self.encodeBatch, indices.count)])
            let z = try await context.compute { try tok.encode(try chunk.map { try dataset.image(at: $0) }) }
            (out.ptr + start * T * C).update(from: z.ptr, count: chunk.count * T * C)
            start += chunk.count
            await context.progress(step: 0, total: 0, metrics: ["encoded": Double(start), "images": Double(indices.count)],
                                   message: "encoding \(datasetName) with tokenizer \(tokenizerName): \(start)/\(indices.count)")
        }
        try store(name, kind: "latent-cache", tensors: [("latents", out)],
                  metadata: ["tokenizer": tokenizerName, "tokenizer_sha256": tokenizerSHA, "dataset": datasetName],
                  parents: [tokenizerName])
        return out
    }

    /// MiniLM token features of `captions` (sorted, unique), cached as one file per caption set.
    func textFeatures(_ captions: [String], encoder: PromptEncoder) async throws -> [TextFeatures] {
        let name = "cache.text." + Self.key(["flowgen.text.v1", "all-MiniLM-L6-v2", String(encoder.encoder.maxLength)] + captions)
        let D = MiniLMEncoder.width
        if let f = try cached(name), let v = try? f.tensor("features"), let l = try? f.tensor("lengths"), l.count == captions.count {
            let lengths = l.array.map { Int($0) }, all = v.array
            var off = 0
            return lengths.map { n in
                defer { off += n * D }
                return TextFeatures(values: Array(all[off..<(off + n * D)]), length: n, dim: D)
            }
        }
        await context.progress(step: 0, total: 0, message: "MiniLM token features of \(captions.count) captions")
        let feats = try await context.compute { encoder.features(captions) }
        let flat = feats.flatMap(\.values)
        try store(name, kind: "text-cache",
                  tensors: [("features", Tensor(flat, shape: [flat.count / D, D])),
                            ("lengths", Tensor(feats.map { Float($0.length) }, shape: [feats.count]))],
                  metadata: ["encoder": "all-MiniLM-L6-v2", "captions": String(captions.count)], parents: [])
        return feats
    }
}
