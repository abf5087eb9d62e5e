/// Queue position and ETA of a request still waiting in the broker (a pure value type).
///
/// Position: the requests ahead of it when first seen (broker depth of its lane and of every
/// lane drained before it) minus the runs of the same service that started since. ETA until
/// it starts: (ahead + 1) / throughput, with throughput = workers / seconds per request (the
/// median duration of the service's recent runs in the audit); unknown without a duration.
/// `clients/python/latentmesh/queue_estimate.py` implements the same rule.
public struct QueueEstimate: Sendable, Equatable {
    /// Requests ahead when the estimate started (>= 0).
    public var aheadAtStart: Int
    /// Runs of the service that started since then.
    public var startsSince: Int = 0
    /// Requests served at once (busy workers × slots), >= 1.
    public var workers: Int
    /// Recent seconds per request (median), nil while unknown.
    public var secondsPerRequest: Double?

    public init(aheadAtStart: Int, workers: Int = 1, secondsPerRequest: Double? = nil) {
        self.aheadAtStart = max(0, aheadAtStart)
        self.workers = max(1, workers)
        self.secondsPerRequest = secondsPerRequest
    }

    /// Requests still ahead.
    public var ahead: Int { max(0, aheadAtStart - startsSince) }

    /// Requests per second the service completes, or nil.
    public var throughput: Double? {
        guard let s = secondsPerRequest, s > 0, s.isFinite else { return nil }
        return Double(workers) / s
    }

    /// Seconds until this request starts, or nil while the throughput is unknown.
    public var etaSeconds: Double? { throughput.map { Double(ahead + 1) / $0 } }

    /// The median of `values`, nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        let v = values.filter(\.isFinite).sorted()
        guard !v.isEmpty else { return nil }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    /// `queued: 12 ahead, starts in ~40s` (or `eta unknown`).
    public var line: String {
        let eta = etaSeconds.map { String(format: "starts in ~%.0fs", $0) } ?? "eta unknown (no recent runs)"
        return "queued: \(ahead) ahead, \(eta)"
    }
}
