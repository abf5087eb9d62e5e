/// A layer with named parameters (names follow PyTorch's `state_dict` convention:
/// `child.param`, e.g. `blocks.0.attn.qkv.weight`).
public protocol Module: AnyObject {
    /// All parameters of this module and its children, with dotted names.
    func namedParameters() -> [(String, Tensor)]
}

extension Module {
    /// Parameters in `namedParameters()` order.
    public func parameters() -> [Tensor] { namedParameters().map { $0.1 } }
    /// Parameters that currently require grad.
    public func trainableParameters() -> [Tensor] { parameters().filter { $0.requiresGrad } }
    /// Freezes (or unfreezes) every parameter.
    public func setFrozen(_ frozen: Bool) { for p in parameters() { p.requiresGrad = !frozen } }
    /// Clears every parameter gradient.
    public func zeroGrad() { for p in parameters() { p.zeroGrad() } }
    /// Number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Name -> tensor map of the parameters (a checkpoint).
    public func stateDict() -> [String: Tensor] {
        Dictionary(namedParameters(), uniquingKeysWith: { a, _ in a })
    }

    /// Copies values from `state` into parameters of the same name.
    /// - strict: every parameter must be present (extra keys in `state` are allowed).
    public func load(_ state: [String: Tensor], strict: Bool = true) throws {
        for (name, p) in namedParameters() {
            guard let src = state[name] else {
                if strict { throw ComputeError.missingTensor(name) }
                continue
            }
            guard src.shape == p.shape else {
                throw ComputeError.shapeMismatch(name: name, expected: p.shape, got: src.shape)
            }
            p.assign(src)
        }
    }
}

/// Errors from checkpoint loading and I/O.
public enum ComputeError: Error, CustomStringConvertible {
    case missingTensor(String)
    case shapeMismatch(name: String, expected: [Int], got: [Int])
    case io(String)
    case format(String)
    public var description: String {
        switch self {
        case .missingTensor(let n): return "checkpoint has no tensor named '\(n)'"
        case let .shapeMismatch(n, e, g): return "tensor '\(n)': expected shape \(e), checkpoint has \(g)"
        case .io(let m): return "I/O error: \(m)"
        case .format(let m): return "format error: \(m)"
        }
    }
}

/// Builds dotted names from own parameters and children.
public func collectParameters(_ own: [(String, Tensor?)], _ children: [(String, Module?)]) -> [(String, Tensor)] {
    var out: [(String, Tensor)] = []
    for (n, t) in own { if let t { out.append((n, t)) } }
    for (prefix, m) in children {
        guard let m else { continue }
        for (n, t) in m.namedParameters() { out.append((prefix + "." + n, t)) }
    }
    return out
}

/// A list of modules named `0`, `1`, … (PyTorch `ModuleList`).
public final class ModuleList<M: Module>: Module {
    public var items: [M]
    public init(_ items: [M]) { self.items = items }
    public func namedParameters() -> [(String, Tensor)] {
        collectParameters([], items.enumerated().map { (String($0.offset), $0.element) })
    }
}
