/// The one error type of the method libraries (VTP, FlowGen, DTI, Distill, ReFusion): a bad
/// configuration or input names its field, an unknown preset lists the known ones. The mesh
/// runtime maps `invalidConfig`, `invalidInput` and `unknownPreset` to INVALID_ARGUMENT with the
/// field named, so a handler does not have to translate them.
public enum MethodError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidConfig(field: String, message: String)
    case unknownPreset(String, known: [String])
    case invalidInput(field: String, message: String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case let .invalidConfig(f, m): return "invalid config: \(f): \(m)"
        case let .unknownPreset(n, known): return "unknown preset '\(n)': use one of \(known.joined(separator: ", "))"
        case let .invalidInput(f, m): return "invalid input: \(f): \(m)"
        case .checkpoint(let m): return "checkpoint: \(m)"
        }
    }

    /// The field a caller should fix ("preset" for an unknown preset; "" for checkpoint errors).
    public var field: String {
        switch self {
        case let .invalidConfig(f, _), let .invalidInput(f, _): return f
        case .unknownPreset: return "preset"
        case .checkpoint: return ""
        }
    }

    /// Throws `invalidConfig(field, message)` unless `ok` (for `validate()` of a config).
    public static func check(_ ok: Bool, _ field: String, _ message: @autoclosure () -> String) throws {
        if !ok { throw MethodError.invalidConfig(field: field, message: message()) }
    }

    /// Throws `invalidInput(field, message)` unless `ok` (for user-supplied inputs).
    public static func checkInput(_ ok: Bool, _ field: String, _ message: @autoclosure () -> String) throws {
        if !ok { throw MethodError.invalidInput(field: field, message: message()) }
    }
}
