import ComputeCore
import Datasets
import Evaluation
import FlowGen
import Foundation
import Models

/// What a concept evaluation samples: sampler, prompts and how many images.
public struct ConceptEvaluationSettings: Codable, Sendable, Equatable {
    public var samplerSteps = 20
    public var guidance: Float = 3
    /// Prompts for the subject score; `{}` is the concept.
    public var subjectTemplates = ["a photo of a {}", "a {}"]
    public var subjectSamples = 4
    /// Prompts that add a colour to the concept (`{color}` and `{}`), for the prompt score.
    public var attributeTemplates = ["a {color} {}", "a {} in {color}"]
    /// Samples per (template, colour).
    public var attributeSamples = 1
    /// How many palette colours (other than the concept's, in palette order) the attribute prompts ask for.
    public var attributeColorCount = 7
    public var seed: UInt64 = 0x5EED
    public init() {}

    /// Progress-time scoring during learning: few, short samples.
    public static let progress: ConceptEvaluationSettings = {
        var s = ConceptEvaluationSettings()
        s.samplerSteps = 10; s.subjectTemplates = ["a photo of a {}"]; s.subjectSamples = 2
        s.attributeTemplates = ["a {color} {}"]; s.attributeColorCount = 4
        return s
    }()
}

/// Every measurement of a concept token (METHODS.md §4), from one place: token norm vs m*, the
/// positional probe, the subject score (mean cosine of EfficientNet-Lite0 pooled features between
/// images generated for the concept and the concept's own images) and the prompt score (the
/// fraction of images for prompts that add a colour, "a red <c>", "a <c> in blue", whose garment
/// hue `ColorPalette.classify` finds to be the asked colour).
public final class ConceptEvaluator: @unchecked Sendable {
    public struct Scores: Codable, Sendable, Equatable {
        public var norm: Double
        public var mStar: Double
        public var positional: Double
        public var subject: Double?
        public var prompt: Double?
        /// Metric name -> value (for progress events and tables).
        public var dictionary: [String: Double] {
            var d = ["token_norm": norm, "m_star": mStar, "norm_ratio": norm / mStar, "positional_probe": positional]
            if let s = subject { d["subject_score"] = s }
            if let p = prompt { d["prompt_score"] = p }
            return d
        }
    }

    public let generator: FlowGenModel
    public let encoder: MiniLMEncoder
    public let mStar: Float
    public let probe: PositionalProbe
    public let effnet: EffNetFeatureExtractor
    /// Tokenizer decoder: raw latents [B, T, C] -> images.
    public let decode: (Tensor) throws -> [ImageBuffer]
    public let settings: ConceptEvaluationSettings

    public init(generator: FlowGenModel, encoder: MiniLMEncoder, mStar: Float, probe: PositionalProbe, effnet: EffNetFeatureExtractor,
                settings: ConceptEvaluationSettings = ConceptEvaluationSettings(), decode: @escaping (Tensor) throws -> [ImageBuffer]) {
        self.generator = generator; self.encoder = encoder; self.mStar = mStar; self.probe = probe
        self.effnet = effnet; self.settings = settings; self.decode = decode
    }

    /// Images for `prompts` (each may contain `name`, embedded as `embedding` [384]); prompt i, sample j
    /// starts from noise of seed + j, as generator.generate does.
    public func images(_ prompts: [String], samples: Int, name: String, embedding: [Float], settings s: ConceptEvaluationSettings? = nil) throws -> [ImageBuffer] {
        let s = s ?? settings
        var feats: [TextFeatures] = [], seeds: [UInt64] = []
        for p in prompts {
            let names = p.contains(name) ? [name] : []
            let (f, n) = names.isEmpty ? (encoder.tokenFeatures(ids: encoder.tokenize(p)), encoder.tokenize(p).count)
                                       : encoder.tokenFeatures(p, extraTokens: names, extra: embedding)
            for j in 0..<samples { feats.append(TextFeatures(values: f, length: n, dim: MiniLMEncoder.width)); seeds.append(s.seed &+ UInt64(j)) }
        }
        let sampler = try generator.sampler(SampleRequest(prompts: feats, seeds: seeds, steps: s.samplerSteps, guidance: s.guidance, sampler: .euler))
        withNoGrad { sampler.run() }
        return try decode(sampler.latents)
    }

    /// EfficientNet pooled features of the concept's images (computed once per concept). -> [N][1280]
    public func referenceFeatures(_ conceptImages: [ImageBuffer]) -> [[Float]] { effnet.features(conceptImages) }

    /// Mean cosine between the features of `generated` and every reference feature.
    public func subjectScore(_ generated: [ImageBuffer], reference: [[Float]]) -> Double {
        let g = effnet.features(generated).map(ConceptBlend.normalized), r = reference.map(ConceptBlend.normalized)
        var total = 0.0
        for a in g { for b in r { total += Double(zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }) } }
        return total / Double(max(g.count * r.count, 1))
    }

    /// Attribute prompts for a concept whose images are `conceptColor`: every other palette colour
    /// in every attribute template, with the colour asked for.
    public func attributePrompts(name: String, conceptColor: Int?) -> [(prompt: String, color: Int)] {
        var out: [(String, Int)] = []
        let colors = ColorPalette.colors.indices.filter { $0 != conceptColor }.prefix(settings.attributeColorCount)
        for t in settings.attributeTemplates {
            for k in colors {
                let c = ColorPalette.colors[k]
                out.append((FashionMNISTColor.render(t.replacingOccurrences(of: "{}", with: "{class}"), color: c.name, garment: name), k))
            }
        }
        return out
    }

    /// Fraction of attribute-prompt images whose hue is the asked colour.
    public func promptScore(name: String, embedding: [Float], conceptColor: Int?) throws -> Double {
        let asks = attributePrompts(name: name, conceptColor: conceptColor)
        let imgs = try images(asks.map(\.prompt), samples: settings.attributeSamples, name: name, embedding: embedding)
        var hits = 0
        for (i, img) in imgs.enumerated() where ColorPalette.classify(img) == asks[i / settings.attributeSamples].color { hits += 1 }
        return Double(hits) / Double(max(imgs.count, 1))
    }

    /// All measurements of `embedding` as the concept `name`; `reference` = `referenceFeatures` of its
    /// images (nil skips the subject score); `promptScore` off skips the prompt score.
    public func evaluate(name: String, embedding: [Float], reference: [[Float]]?, conceptColor: Int?, promptScore withPrompt: Bool = true,
                         settings s: ConceptEvaluationSettings? = nil) throws -> Scores {
        let st = s ?? settings
        let norm = Double(embedding.reduce(0) { $0 + $1 * $1 }.squareRoot())
        var out = Scores(norm: norm, mStar: Double(mStar), positional: probe.value(embedding), subject: nil, prompt: nil)
        if let reference {
            let prompts = st.subjectTemplates.map { $0.replacingOccurrences(of: "{}", with: name) }
            out.subject = subjectScore(try images(prompts, samples: st.subjectSamples, name: name, embedding: embedding, settings: st), reference: reference)
        }
        if withPrompt { out.prompt = try promptScore(name: name, embedding: embedding, conceptColor: conceptColor) }
        return out
    }
}
