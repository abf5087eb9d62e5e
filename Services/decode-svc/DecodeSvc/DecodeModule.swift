import ComputeCore
import Foundation
import MeshKit
import ReFusion

/// decode-svc: ReFusion slot-level plan-and-infill decoding vs AR and masked diffusion.
public struct DecodeModule: ServiceModule {
    public init() {}
    public var name: String { "decode" }
    public var method: String { "ReFusion" }
    public var summary: String { "slot-level plan-and-infill decoding vs AR and masked diffusion" }
    public var presets: [String] { TransformerConfig.presetNames }
    public var settings: [String: String] {
        let p = DecodeService.defaultParameters
        return ["max_tokens": String(p.maxTokens), "slot_size": String(p.slotSize), "block_size": String(p.blockSize),
                "slot_threshold": String(p.slotThreshold), "token_threshold": String(p.tokenThreshold),
                "train_steps": String(DecodeService.defaultTrainSteps)]
    }
    public func methods(config: ServiceConfig) -> [ServiceMethod] { DecodeService.methods() }

    /// Applies the compute settings; when they were set explicitly, states the threads actually
    /// in effect on stderr (`mesh-bench decode` checks that every replica runs single-threaded).
    public func prepare(config: ServiceConfig) throws {
        applyComputeSettings(config)
        guard config.blasThreads > 0 else { return }
        let line = "decode-svc compute threads: gemm workers \(Threads.gemmWorkers), elementwise \(Threads.elementwise), openblas \(Threads.blas)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
