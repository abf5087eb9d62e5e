/// Checkpointable AdamW state, so a resumed run continues exactly where it stopped.
extension AdamW {
    /// First and second moments as named tensors (`optim.m.<name>`, `optim.v.<name>`);
    /// `names` label `params` in order.
    public func state(names: [String]) -> [(String, Tensor)] {
        precondition(names.count == params.count, "AdamW.state: \(names.count) names for \(params.count) params")
        return names.indices.flatMap { [("optim.m." + names[$0], m[$0]), ("optim.v." + names[$0], v[$0])] }
    }

    /// Restores moments written by `state(names:)` and the step count (for bias correction).
    public func load(_ state: [String: Tensor], names: [String], stepCount: Int) throws {
        for (i, n) in names.enumerated() {
            guard let a = state["optim.m." + n], let b = state["optim.v." + n] else { throw ComputeError.missingTensor("optim.m/v." + n) }
            guard a.count == m[i].count, b.count == v[i].count else {
                throw ComputeError.shapeMismatch(name: "optim." + n, expected: m[i].shape, got: a.shape)
            }
            m[i].assign(a); v[i].assign(b)
        }
        self.stepCount = stepCount
    }
}
