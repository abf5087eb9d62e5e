import Foundation
import RunStore

/// What a recorded training run says about itself: every metric of its progress events as a
/// series over steps, and the commit it was trained at (its `config` event). Reports read it
/// from the audit store instead of keeping their own copy of the losses.
public struct TrainingHistory: Codable, Sendable, Equatable {
    /// metric -> (steps, values), in step order; a step appears once (the last report of it).
    public var series: [String: Series]
    /// `git_commit` of the run's first `config` event (nil if none was recorded).
    public var commit: String?

    public struct Series: Codable, Sendable, Equatable {
        public var steps: [Double]
        public var values: [Double]
        /// The value at the largest step.
        public var last: Double? { values.last }
    }

    /// The history of `runID` in `store` (at most `limit` events).
    public static func read(runID: String, store: RunStore, limit: Int = 100_000) throws -> TrainingHistory {
        try store.flush()
        var bySeries: [String: [Int: Double]] = [:]
        var commit: String?
        for e in try store.events(runID: runID, limit: limit) {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(e.payloadJSON.utf8)) as? [String: Any] else { continue }
            if e.type == "config", commit == nil { commit = obj["git_commit"] as? String }
            guard e.type == "progress", let step = (obj["step"] as? NSNumber)?.intValue,
                  let metrics = obj["metrics"] as? [String: Any] else { continue }
            for (k, v) in metrics { if let d = (v as? NSNumber)?.doubleValue { bySeries[k, default: [:]][step] = d } }
        }
        var series: [String: Series] = [:]
        for (k, points) in bySeries {
            let steps = points.keys.sorted()
            series[k] = Series(steps: steps.map(Double.init), values: steps.map { points[$0]! })
        }
        return TrainingHistory(series: series, commit: commit)
    }
}
