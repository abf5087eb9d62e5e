import Evaluation
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The decode experiment's disk cache (`meshctl report decode --cache`): every trained model as
/// `models/<name>/model.safetensors` with its training record (`record.json`), and every seed's
/// measurements as `measurements/<name>.json`, each named by `RecipeName` of its full recipe, so
/// a rerun resumes with the finished models and a changed recipe never reuses a stale one.
/// Without a directory nothing is stored. Counts what it reused and what it had to compute.
/// A model still training keeps a `PlateauSnapshot` in its folder after every held-out evaluation,
/// so a stopped run continues it from there instead of from step 0.
///
/// With a `ledger` (the report's committed `ledger/` folder), every training record and
/// measurement set is also kept there, under the same name: a run on a fresh machine, where the
/// disk cache is gone, reuses them and trains a model only when a measurement still needs its
/// weights (`DecodeExperiment.TrainedModel.model`).
///
/// With a `weightStore` (a folder committed beside the ledger, for plans whose training spans
/// sessions), every finished model's weights are also kept there as `<name>.safetensors`, and the
/// model still training keeps its snapshot there (`<name>.snapshot.safetensors`, git-ignored; a
/// session commits it with `git add -f` when it stops), and so does the measurement set being
/// measured (its finished passes, `<name>.parts.json`), so a fresh machine loads or continues them.
public final class DecodeModelCache {
    public let directory: URL?
    public let ledger: ReportLedger?
    public let weightStore: URL?
    /// Recorded with every ledger entry this run writes.
    public let provenance: [String: String]
    /// Models / measurement sets loaded from disk or the ledger in this run.
    public private(set) var reused = 0
    /// Models / measurement sets computed (and stored) in this run.
    public private(set) var computed = 0
    /// The provenance of every ledger entry read, and this run's for what it wrote.
    public private(set) var measuredBy: [[String: String]] = []

    public init(directory: URL?, ledger: ReportLedger? = nil, weightStore: URL? = nil, provenance: [String: String] = [:]) {
        self.directory = directory; self.ledger = ledger; self.weightStore = weightStore; self.provenance = provenance
    }

    /// The training record of model `name` from the ledger, if it holds one.
    public func ledgerRecord(_ name: String) throws -> TrainingRecord? {
        guard let e = try ledger?.entry(name, as: TrainingRecord.self) else { return nil }
        reused += 1
        measuredBy.append(e.measuredBy)
        return e.value
    }

    /// The ledger's training record of model `name` without counting it as reused (a look before
    /// choosing which name to use).
    func peekLedgerRecord(_ name: String) throws -> TrainingRecord? {
        try ledger?.entry(name, as: TrainingRecord.self)?.value
    }

    /// Keeps `value` in the ledger under `name` unless it holds an entry already (the first
    /// measurement of a recipe stays the one the report cites). `fromDisk`: read from the disk
    /// cache, so measured by an earlier run than this one (the entry says so).
    func keep<T: Codable>(_ value: T, as name: String, fromDisk: Bool) throws {
        guard let ledger, try !ledger.contains(name) else { return }
        let p = fromDisk ? provenance.merging(["via": "report cache (measured by an earlier run)"]) { _, new in new } : provenance
        try ledger.store(value, key: name, provenance: p)
        measuredBy.append(p)
    }

    public struct CacheError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Where model `name`'s unfinished training keeps its `PlateauSnapshot`: the weight store if there
    /// is one, else the disk cache (nil without either); removed once the model is stored.
    public func snapshotURL(_ name: String) -> URL? {
        weightStore?.appendingPathComponent("\(name).snapshot.safetensors")
            ?? directory?.appendingPathComponent("models/\(name)/training-snapshot.safetensors")
    }

    /// Model `name`'s finished weights in the weight store (nil without one).
    public func storedWeightsURL(_ name: String) -> URL? {
        weightStore?.appendingPathComponent("\(name).safetensors")
    }

    /// Where measurement set `name` keeps its finished passes while it is measured
    /// (`EvaluationProgress`): the weight store if there is one (`<name>.parts.json`, git-ignored and
    /// committed with `git add -f` at a stop like a snapshot, so a fresh machine resumes the set), else
    /// the disk cache; nil without either.
    public func progressURL(_ name: String) -> URL? {
        weightStore?.appendingPathComponent("\(name).parts.json")
            ?? directory?.appendingPathComponent("measurements/\(name).parts.json")
    }

    /// The cached model `name` and its record (disk cache, else weight store with the ledger's record),
    /// or `make()`'s, which is stored first.
    public func model(_ name: String, make: () throws -> (TransformerLM, TrainingRecord)) throws -> (TransformerLM, TrainingRecord) {
        if let (m, r) = try cachedModel(name) ?? storedModel(name) {
            reused += 1
            try store(m, as: name)   // a model of an older run's disk cache joins the weight store
            return (m, r)
        }
        guard directory != nil || weightStore != nil else {
            computed += 1
            return try make()
        }
        let (m, r) = try make()
        if let dir = directory?.appendingPathComponent("models/\(name)") {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try m.save(to: dir.appendingPathComponent("model.safetensors").path, extra: ["recipe": name, "source": "meshctl report decode"])
            // the record last: its presence marks a complete entry
            try JSONEncoder().encode(r).write(to: dir.appendingPathComponent("record.json"), options: .atomic)
        }
        try store(m, as: name)
        if let snap = snapshotURL(name) { try? FileManager.default.removeItem(at: snap) }
        computed += 1
        try reconcile(r, as: name, fromDisk: false)
        return (m, r)
    }

    /// Keeps record `r` of the weights in hand in the ledger. When the ledger's record of `name`
    /// is another training run (its weights were lost, and retraining the same recipe on other
    /// hardware took another path: float rounding differs between BLAS kernels), `r` replaces it,
    /// since the report measures these weights; the entry names the record it replaced.
    func reconcile(_ r: TrainingRecord, as name: String, fromDisk: Bool) throws {
        guard let ledger, let old = try ledger.entry(name, as: TrainingRecord.self), !old.value.training.sameRun(as: r.training) else {
            return try keep(r, as: name, fromDisk: fromDisk)
        }
        var p = fromDisk ? provenance.merging(["via": "report cache (measured by an earlier run)"]) { _, new in new } : provenance
        p["replaces"] = "record by commit \(old.measuredBy["commit"] ?? "?") on \(old.measuredBy["cpu"] ?? "?") (held-out loss "
            + String(format: "%.4f at step %d", old.value.training.bestHeldOutLoss, old.value.training.bestStep)
            + "), whose weights were lost; retraining took another path"
        try ledger.store(r, key: name, provenance: p)
        if let i = measuredBy.firstIndex(of: old.measuredBy) { measuredBy.remove(at: i) }   // read before the retrain
        measuredBy.append(p)
    }

    /// Model `name` from the disk cache (its record file marks a complete entry).
    func cachedModel(_ name: String) throws -> (TransformerLM, TrainingRecord)? {
        guard let dir = directory?.appendingPathComponent("models/\(name)") else { return nil }
        let record = dir.appendingPathComponent("record.json")
        guard FileManager.default.fileExists(atPath: record.path) else { return nil }
        do {
            let r = try JSONDecoder().decode(TrainingRecord.self, from: Data(contentsOf: record))
            let m = try TransformerLM.load(from: dir.appendingPathComponent("model.safetensors").path)
            try reconcile(r, as: name, fromDisk: true)
            return (m, r)
        } catch {
            throw CacheError(description: "cached decode model \(dir.path) is unreadable (\(error)); delete the folder to retrain it")
        }
    }

    /// Model `name` from the weight store, with its record from the ledger (weights without a record
    /// are not used: the record says how they were trained).
    func storedModel(_ name: String) throws -> (TransformerLM, TrainingRecord)? {
        guard let url = storedWeightsURL(name), FileManager.default.fileExists(atPath: url.path),
              let r = try peekLedgerRecord(name) else { return nil }
        do {
            return (try TransformerLM.load(from: url.path), r)
        } catch {
            throw CacheError(description: "stored decode weights \(url.path) are unreadable (\(error)); delete the file to retrain the model")
        }
    }

    /// Writes `model` to the weight store (atomically) unless it holds it already.
    func store(_ model: TransformerLM, as name: String) throws {
        guard let url = storedWeightsURL(name), !FileManager.default.fileExists(atPath: url.path) else { return }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        try model.save(to: tmp.path, extra: ["recipe": name, "source": "meshctl report decode"])
        guard rename(tmp.path, url.path) == 0 else {
            throw CacheError(description: "\(url.path): cannot move the weights into place (errno \(errno))")
        }
    }

    /// The cached measurements `name`, or `make()`'s, which are stored first.
    public func measurements<T: Codable>(_ name: String, make: () throws -> T) throws -> T {
        if let e = try ledger?.entry(name, as: T.self) {
            reused += 1
            measuredBy.append(e.measuredBy)
            return e.value
        }
        let before = computed
        let v = try diskMeasurements(name, make: make)
        try keep(v, as: name, fromDisk: computed == before)
        return v
    }

    /// `measurements` without the ledger.
    func diskMeasurements<T: Codable>(_ name: String, make: () throws -> T) throws -> T {
        guard let file = directory?.appendingPathComponent("measurements/\(name).json") else {
            computed += 1
            return try make()
        }
        if FileManager.default.fileExists(atPath: file.path) {
            do {
                let v = try JSONDecoder().decode(T.self, from: Data(contentsOf: file))
                reused += 1
                return v
            } catch {
                throw CacheError(description: "cached decode measurements \(file.path) are unreadable (\(error)); delete the file to measure again")
            }
        }
        let v = try make()
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(v).write(to: file, options: .atomic)
        computed += 1
        return v
    }

    /// The name of a recipe (`RecipeName`).
    public static func name(_ prefix: String, _ recipe: [String]) -> String { RecipeName.name(prefix, recipe) }
}

/// How one cached model was trained: what the report states per model.
public struct TrainingRecord: Sendable, Codable, Equatable {
    /// `ar`, `mdm`, `refusion` or `refusion-paper-labels`.
    public var kind: String
    public var seed: UInt64
    public var learningRate: Float
    public var parameters: Int
    public var training: PlateauTraining.Result
}
