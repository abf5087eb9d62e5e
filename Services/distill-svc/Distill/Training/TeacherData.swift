import ComputeCore
import FlowGen

/// Distillation data without the tokenizer or the image set: the guided teacher's own samples
/// of the training prompts (x0 = the endpoint of its `steps`-step Euler ODE with guidance),
/// normalised latents as `FlowGenData` with each sample's prompt as its caption.
public enum TeacherData {
    /// `count` samples; sample i uses prompt i mod prompts.count and seed `seed` + i.
    public static func synthesize(teacher: FlowGenDiT, prompts: [TextFeatures], count: Int, steps: Int, guidance: Float,
                                  seed: UInt64, chunk: Int = 8) throws -> FlowGenData {
        guard !prompts.isEmpty else { throw MethodError.invalidInput(field: "prompts", message: "need at least one prompt") }
        guard count >= 1 else { throw MethodError.invalidInput(field: "data_count", message: "must be >= 1, got \(count)") }
        let mc = teacher.config
        let idx = (0..<count).map { $0 % prompts.count }
        let request = SampleRequest(prompts: idx.map { prompts[$0] }, seeds: (0..<count).map { seed &+ UInt64($0) },
                                    steps: steps, guidance: guidance)
        let sampler = try FlowSampler(model: teacher, normalizer: .identity(channels: mc.latentChannels), request: request,
                                      chunk: min(chunk, count))
        sampler.run()
        return try FlowGenData(latents: sampler.x, texts: prompts, captions: idx.map { [$0] })   // [N, T, C]
    }
}
