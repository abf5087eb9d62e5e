/// Per-row progress of a sampler whose rows may start at different times (continuous batching:
/// a request joins a running batch at a step boundary, `FlowSampler.append`). Every row walks the
/// same grid of `totalSteps` steps from its own step 0; one model forward serves all unfinished
/// rows (each with its own t), and the update arithmetic runs per group of rows at the same step,
/// so a row's bits are those it gets alone.
///
/// A pure value type: the samplers keep one and ask it which rows to advance.
public struct SamplerRows: Sendable, Equatable {
    /// Steps every row takes.
    public let totalSteps: Int
    /// Completed steps of each row, in row order. [B]
    public private(set) var steps: [Int]

    public init(totalSteps: Int, rows: Int) {
        precondition(totalSteps >= 1 && rows >= 0, "SamplerRows: totalSteps must be >= 1 and rows >= 0")
        self.totalSteps = totalSteps
        steps = Array(repeating: 0, count: rows)
    }

    /// One group of unfinished rows at the same step.
    public struct Group: Sendable, Equatable {
        /// The completed steps of these rows (they take step `step` -> `step + 1` next).
        public var step: Int
        /// Positions in `live` (ascending).
        public var positions: [Int]
        public init(step: Int, positions: [Int]) { self.step = step; self.positions = positions }
    }

    public var count: Int { steps.count }
    /// Rows that still have steps to take, ascending.
    public var live: [Int] { steps.indices.filter { steps[$0] < totalSteps } }
    /// Whether every row has taken all its steps (true for no rows).
    public var isFinished: Bool { steps.allSatisfy { $0 >= totalSteps } }
    /// Completed steps of the least advanced row (`totalSteps` when finished or empty).
    public var leastStep: Int { steps.min() ?? totalSteps }

    /// The live rows grouped by their step, least advanced group first.
    public var groups: [Group] {
        var byStep: [Int: [Int]] = [:]
        for (p, r) in live.enumerated() { byStep[steps[r], default: []].append(p) }
        return byStep.keys.sorted().map { Group(step: $0, positions: byStep[$0]!) }
    }

    /// Every live row took one step.
    public mutating func advance() {
        for i in steps.indices where steps[i] < totalSteps { steps[i] += 1 }
    }

    /// `n` new rows at step 0, after the existing ones.
    public mutating func append(_ n: Int) {
        precondition(n >= 0, "SamplerRows.append: n must be >= 0")
        steps += Array(repeating: 0, count: n)
    }

    /// Keeps only `rows`, in that order.
    public mutating func retain(_ rows: [Int]) {
        precondition(rows.allSatisfy { steps.indices.contains($0) }, "SamplerRows.retain: rows \(rows) out of 0..<\(steps.count)")
        steps = rows.map { steps[$0] }
    }
}
