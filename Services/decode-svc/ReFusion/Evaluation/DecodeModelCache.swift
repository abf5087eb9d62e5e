import Evaluation
import Foundation

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
public final class DecodeModelCache {
    public let directory: URL?
    public let ledger: ReportLedger?
    /// Recorded with every ledger entry this run writes.
    public let provenance: [String: String]
    /// Models / measurement sets loaded from disk or the ledger in this run.
    public private(set) var reused = 0
    /// Models / measurement sets computed (and stored) in this run.
    public private(set) var computed = 0
    /// The provenance of every ledger entry read, and this run's for what it wrote.
    public private(set) var measuredBy: [[String: String]] = []

    public init(directory: URL?, ledger: ReportLedger? = nil, provenance: [String: String] = [:]) {
        self.directory = directory; self.ledger = ledger; self.provenance = provenance
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

    /// Where model `name`'s unfinished training keeps its `PlateauSnapshot` (nil without a directory);
    /// removed once the model is stored.
    public func snapshotURL(_ name: String) -> URL? {
        directory?.appendingPathComponent("models/\(name)/training-snapshot.safetensors")
    }

    /// Where measurement set `name` keeps its finished passes while it is measured
    /// (`EvaluationProgress`; nil without a directory).
    public func progressURL(_ name: String) -> URL? {
        directory?.appendingPathComponent("measurements/\(name).parts.json")
    }

    /// The cached model `name` and its record, or `make()`'s, which is stored first.
    public func model(_ name: String, make: () throws -> (TransformerLM, TrainingRecord)) throws -> (TransformerLM, TrainingRecord) {
        guard let dir = directory?.appendingPathComponent("models/\(name)") else {
            computed += 1
            return try make()
        }
        let weights = dir.appendingPathComponent("model.safetensors"), record = dir.appendingPathComponent("record.json")
        if FileManager.default.fileExists(atPath: record.path) {
            do {
                let r = try JSONDecoder().decode(TrainingRecord.self, from: Data(contentsOf: record))
                let m = try TransformerLM.load(from: weights.path)
                reused += 1
                try keep(r, as: name, fromDisk: true)
                return (m, r)
            } catch {
                throw CacheError(description: "cached decode model \(dir.path) is unreadable (\(error)); delete the folder to retrain it")
            }
        }
        let (m, r) = try make()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try m.save(to: weights.path, extra: ["recipe": name, "source": "meshctl report decode"])
        // the record last: its presence marks a complete entry
        try JSONEncoder().encode(r).write(to: record, options: .atomic)
        if let snap = snapshotURL(name) { try? FileManager.default.removeItem(at: snap) }
        computed += 1
        try keep(r, as: name, fromDisk: false)
        return (m, r)
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
