import Datasets
import Foundation
import MeshKit
import MeshProto

/// The request mix of a chaos run: ping with 20 ms of work on both services, tokenizer
/// encode and decode with a tiny trained tokenizer, and decode.run with a tiny AR model.
struct ChaosRequests: Sendable {
    let checkpoint: String
    let decodeModel: String
    let png: Data
    let latent: Latentmesh_V1_Latent
    static let kinds = ["tokenizer.ping", "decode.ping", "tokenizer.encode", "tokenizer.decode", "decode.run"]

    /// Trains the two tiny models through the mesh and encodes one image for the decode requests.
    static func prepare(transport: MeshTransport, tag: String, plan: ChaosPlan,
                        say: @Sendable (String) -> Void) async throws -> ChaosRequests {
        let client = try await MeshClient(transport: transport, clientName: "chaos")
        defer { Task { await client.close() } }
        var t = Latentmesh_V1_TokenizerTrainRequest()
        t.preset = "vtp-fmnist32-xs"; t.steps = plan.tokenizerSteps; t.seed = plan.seed; t.checkpointName = "\(tag)-vtp"
        t.meta.requestID = "\(tag)-setup-tokenizer"
        _ = try await client.call("tokenizer.train", t, as: Latentmesh_V1_TokenizerTrainResult.self, timeout: .seconds(900))
        var d = Latentmesh_V1_DecodeTrainRequest()
        d.preset = "tiny"; d.objective = "ar"; d.steps = plan.decodeSteps; d.seed = plan.seed; d.modelName = "\(tag)-ar"
        d.meta.requestID = "\(tag)-setup-decode"
        _ = try await client.call("decode.train", d, as: Latentmesh_V1_DecodeTrainResult.self, timeout: .seconds(900))
        say("trained \(t.checkpointName) (\(t.steps) steps) and \(d.modelName) (\(d.steps) steps)")

        var rng = SeededRNG(seed: plan.seed)
        let pixels = (0..<(32 * 32 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let png = Data(try PNGCodec.encode(bytes: pixels, width: 32, height: 32, channels: 3))
        var e = Latentmesh_V1_EncodeRequest()
        e.checkpointName = t.checkpointName; e.imagesPng = [png]
        e.meta.requestID = "\(tag)-setup-encode"
        let encoded = try await client.call("tokenizer.encode", e, as: Latentmesh_V1_EncodeResponse.self, timeout: .seconds(120))
        guard let latent = encoded.response.latents.first else { throw ChaosError("tokenizer.encode returned no latent") }
        return ChaosRequests(checkpoint: t.checkpointName, decodeModel: d.modelName, png: png, latent: latent)
    }

    /// The next request of the mix (uniform over `kinds`) with its serialized body.
    func next(_ rng: inout SeededRNG, requestID: String) -> (kind: String, body: Data) {
        let kind = Self.kinds[Int(rng.next() % UInt64(Self.kinds.count))]
        var meta = Latentmesh_V1_RequestMeta()
        meta.requestID = requestID
        meta.client = "chaos"
        let body: Data?
        switch kind {
        case "tokenizer.ping", "decode.ping":
            var r = Latentmesh_V1_PingRequest()
            r.meta = meta; r.workMs = 20; r.payload = Data(requestID.utf8)
            body = try? r.serializedData()
        case "tokenizer.encode":
            var r = Latentmesh_V1_EncodeRequest()
            r.meta = meta; r.checkpointName = checkpoint; r.imagesPng = [png]
            body = try? r.serializedData()
        case "tokenizer.decode":
            var r = Latentmesh_V1_DecodeLatentsRequest()
            r.meta = meta; r.checkpointName = checkpoint; r.latents = [latent]
            body = try? r.serializedData()
        default:
            var r = Latentmesh_V1_DecodeRunRequest()
            r.meta = meta; r.prompt = "\(Int(rng.next() % 50))+\(Int(rng.next() % 50))="; r.mode = "ar"
            r.modelName = decodeModel; r.maxTokens = 6
            body = try? r.serializedData()
        }
        return (kind, body ?? Data())
    }
}
