/// One recorded op on the tape: its inputs and the closure that maps the output gradient
/// to input-gradient contributions (the closure calls `accumulateGrad` on the inputs).
final class TapeNode {
    let parents: [Tensor]
    let backward: (Tensor) -> Void
    init(parents: [Tensor], backward: @escaping (Tensor) -> Void) {
        self.parents = parents
        self.backward = backward
    }
}

/// Whether ops record the tape, per task (and per thread outside tasks): `withNoGrad` in one
/// request never switches recording off in a training step running beside it.
public enum GradMode {
    @TaskLocal static var disabled = false
    /// True unless the current task / thread is inside `withNoGrad`.
    public static var isEnabled: Bool { !disabled }
}

/// Runs `body` without recording the tape (inference, optimiser updates, EMA), in the
/// current task / thread only.
@discardableResult
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$disabled.withValue(true, operation: body)
}

extension Tensor {
    /// Records `out` as produced from `inputs` (if recording and any input needs grad), and
    /// computes its tangent (if any input carries one).
    /// - backward: given dL/d(out), adds contributions into the inputs via `accumulateGrad`.
    /// - tangent: given the inputs' tangents (nil = zero), returns out's tangent (or nil).
    @inline(__always)
    static func record(_ out: Tensor, _ inputs: [Tensor],
                       backward: @escaping (Tensor) -> Void,
                       tangent: (([Tensor?]) -> Tensor?)? = nil,
                       op: StaticString = "op") -> Tensor {
        if GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) {
            out.requiresGrad = true
            out.node = TapeNode(parents: inputs, backward: backward)
        }
        if inputs.contains(where: { $0.tangent != nil }) {
            guard let tangent else { fatalError("ComputeCore: forward-mode JVP is not implemented for \(op)") }
            let ts = inputs.map { $0.tangent }
            out.tangent = withNoGrad { tangent(ts) }
        }
        return out
    }

    /// Adds `g` (same shape as self, or summable to it) into `grad`, copy-on-write.
    public func accumulateGrad(_ g: Tensor) {
        guard requiresGrad else { return }
        let g = g.shape == shape ? g : g.sumTo(shape)
        if let cur = _grad {
            if gradOwned {
                addInPlace(cur, g)
            } else {
                let n = Tensor(uninitialized: shape)
                Kernels.add(cur.ptr, g.ptr, n.ptr, count)
                _grad = n
                gradOwned = true
            }
        } else {
            _grad = g.shape == shape ? g : g.reshaped(shape)
            gradOwned = false
        }
    }

    /// Reverse-mode sweep from this tensor: d(self)/d(leaves) accumulated into `grad`.
    /// - seed: dL/d(self); defaults to ones (use for scalar losses).
    /// Interior gradients and the tape are released as the sweep proceeds.
    public func backward(_ seed: Tensor? = nil, retainGraph: Bool = false) {
        precondition(requiresGrad, "backward() on a tensor that does not require grad")
        // Topological order by iterative DFS over tape nodes.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            let id = ObjectIdentifier(t)
            if visited.contains(id) { continue }
            visited.insert(id)
            stack.append((t, true))
            if let node = t.node {
                for p in node.parents where p.requiresGrad && !visited.contains(ObjectIdentifier(p)) {
                    stack.append((p, false))
                }
            }
        }
        let s = seed ?? Tensor.ones(shape)
        precondition(s.shape == shape, "backward seed shape \(s.shape) != \(shape)")
        withNoGrad {
            accumulateGrad(s)
            for t in order.reversed() {
                guard let node = t.node, let g = t._grad else { continue }
                node.backward(g)
                if !retainGraph {
                    t.node = nil
                    t._grad = nil
                }
            }
        }
    }

    /// Clears `grad`.
    public func zeroGrad() { _grad = nil; gradOwned = false }
}
