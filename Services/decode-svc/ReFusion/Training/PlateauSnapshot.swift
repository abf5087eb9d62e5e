import ComputeCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plateau-training run stopped between two evaluations, kept on disk so an interrupted run
/// continues exactly where it stopped (the decode report's long plan trains one model for up to
/// ~1.5 h; a session stop must not throw that away). One safetensors file holds the current
/// weights (`model.<name>`), the best evaluation's weights (`best.<name>`), AdamW's moments
/// (`optim.m.<name>`, `optim.v.<name>`) and, as metadata, the trainer's step, compute and data-RNG
/// state (AdamW has taken as many steps as the trainer) and the `PlateauTraining.Progress` JSON.
/// Written atomically (temporary file, then rename), so a crash mid-write keeps the previous one.
public enum PlateauSnapshot {
    static let progressKey = "plateau_progress"

    /// Writes `trainer`'s state, `best` weights and `progress` to `url`.
    public static func write(_ trainer: DecodeTrainer, best: TransformerLM, progress: PlateauTraining.Progress, to url: URL) throws {
        let params = trainer.model.namedParameters()
        var tensors: [(String, Tensor)] = params.map { ("model." + $0.0, $0.1) }
        tensors += best.namedParameters().map { ("best." + $0.0, $0.1) }
        tensors += trainer.optimizer.state(names: params.map(\.0))
        let json = String(data: try JSONEncoder().encode(progress), encoding: .utf8)!
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try Safetensors.write(tensors, metadata: [progressKey: json, "trainer_step": String(trainer.step),
                                                  "trainer_flops": String(trainer.flops), "trainer_rng": String(trainer.rng.rawState)],
                              to: tmp.path)
        guard rename(tmp.path, url.path) == 0 else {
            throw TransformerLM.CheckpointError(message: "\(url.path): cannot move the snapshot into place (errno \(errno))")
        }
    }

    /// Restores `trainer` (weights, AdamW moments and step count, step, compute, data RNG) from the
    /// snapshot at `url` and returns its progress and best weights; nil when there is no snapshot.
    /// A snapshot of another configuration fails with the tensor that does not fit.
    public static func read(_ url: URL, into trainer: DecodeTrainer) throws -> (progress: PlateauTraining.Progress, best: TransformerLM)? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let file = try SafetensorsFile(path: url.path)
        let m = file.metadata
        guard let json = m[progressKey], let step = m["trainer_step"].flatMap(Int.init),
              let flops = m["trainer_flops"].flatMap(Double.init), let rng = m["trainer_rng"].flatMap(UInt64.init) else {
            throw TransformerLM.CheckpointError(message: "\(url.path): not a plateau-training snapshot (no trainer state or \(progressKey) metadata)")
        }
        let progress = try JSONDecoder().decode(PlateauTraining.Progress.self, from: Data(json.utf8))
        let all = try file.all()
        func part(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: all.compactMap { k, v in k.hasPrefix(prefix) ? (String(k.dropFirst(prefix.count)), v) : nil })
        }
        try trainer.model.load(part("model."))
        let best = trainer.model.copy()
        try best.load(part("best."))
        try trainer.optimizer.load(all, names: trainer.model.namedParameters().map(\.0), stepCount: step)
        trainer.step = step
        trainer.flops = flops
        trainer.rng = SeededRandom(rawState: rng)
        return (progress, best)
    }
}
