import Foundation
import Logging

/// What one audit-write benchmark measured.
public struct AuditWriteReport: Sendable, Equatable {
    public var runs: Int
    public var eventsPerRun: Int
    /// Rows written: one begin + one finish + `eventsPerRun` events per run.
    public var writes: Int
    public var seconds: Double
    public var writesPerSecond: Double { seconds > 0 ? Double(writes) / seconds : 0 }
}

extension RunStore {
    /// Writes per second for the audit trail of `count` runs: each run is begin + finish plus
    /// `eventsPerRun` buffered events (flushed in batches). Run ids are unique per call.
    public func runAuditWriteBenchmark(count: Int, eventsPerRun: Int = 4) throws -> AuditWriteReport {
        guard count > 0, count <= 10_000_000 else {
            throw RunStoreError.invalidArgument(field: "count", message: "is \(count), must be in 1...10000000")
        }
        guard (0...1_000).contains(eventsPerRun) else {
            throw RunStoreError.invalidArgument(field: "eventsPerRun", message: "is \(eventsPerRun), must be in 0...1000")
        }
        let prefix = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        let result = Data(repeating: 0x2a, count: 64)
        let clock = ContinuousClock()
        let start = clock.now
        for i in 0..<count {
            let runID = "\(prefix)-\(i)"
            _ = try beginRun(RunStart(runID: runID, requestID: "\(runID)-req", service: "bench",
                                      kind: "bench.audit", worker: "bench", configJSON: #"{"i":\#(i)}"#))
            for step in 0..<eventsPerRun {
                try appendEvent(RunEvent(runID: runID, type: "progress", payloadJSON: #"{"step":\#(step)}"#))
            }
            try finishRun(runID: runID, status: .succeeded, result: result, error: nil)
        }
        try flush()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return AuditWriteReport(runs: count, eventsPerRun: eventsPerRun, writes: count * (2 + eventsPerRun),
                                seconds: seconds)
    }

    /// Writes per second (begin + finish + 4 batched events per run) over `count` runs;
    /// 0 if the store fails (the error is logged).
    public func measureAuditWrites(count: Int) -> Double {
        do {
            return try runAuditWriteBenchmark(count: count).writesPerSecond
        } catch {
            Logger(label: "latentmesh.runstore.bench").error("audit write benchmark failed",
                                                             metadata: ["error": "\(error)"])
            return 0
        }
    }
}

/// Writes per second of `store` for `count` runs of begin + finish + 4 batched events
/// (see `RunStore.runAuditWriteBenchmark`); 0 if the store fails. Called by mesh-bench.
public func measureAuditWrites(store: RunStore, count: Int) -> Double {
    store.measureAuditWrites(count: count)
}
