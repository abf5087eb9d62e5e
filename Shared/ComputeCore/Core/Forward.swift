/// Forward-mode Jacobian-vector product: runs `f` on `primals` carrying `tangents`
/// (dual numbers) and returns (f(primals), J_f(primals) · tangents).
/// The tangent is computed without taping (it is a stop-gradient quantity, as sCM and
/// MeanFlow use it); the primal output is taped as usual if grad mode is on.
public func jvp(_ primals: [Tensor], _ tangents: [Tensor], _ f: ([Tensor]) -> Tensor) -> (Tensor, Tensor) {
    precondition(primals.count == tangents.count, "jvp: \(primals.count) primals, \(tangents.count) tangents")
    let xs: [Tensor] = zip(primals, tangents).map { p, t in
        precondition(p.shape == t.shape, "jvp: tangent shape \(t.shape) != primal shape \(p.shape)")
        let v = Tensor(shape: p.shape, storage: p.storage, offset: p.offset, requiresGrad: false)
        v.tangent = t
        return v
    }
    let y = f(xs)
    let t = y.tangent ?? Tensor(zeros: y.shape)
    y.tangent = nil
    return (y, t)
}
