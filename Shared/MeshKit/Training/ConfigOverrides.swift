import Foundation

/// `path=value` overrides of a resolved configuration (`train.sslBatch=32`,
/// `loss.centerMomentum=0.99`): a user tunes one knob of a named preset without a new preset.
/// The configuration round-trips through JSON; an override must name an existing scalar field
/// and keeps its type (number, bool or string), so a typo or a wrong type is an error that names
/// the override, never a silently ignored key. An optional field left unset is absent from the
/// JSON: an override may set it (its value read as a bool, a number or a string), and is accepted
/// only if the decoded configuration then carries it. The run records the resolved configuration.
public enum ConfigOverrides {
    /// `config` with every override applied in order. Throws `ServiceError.invalid(field, …)`.
    public static func apply<C: Codable>(_ overrides: [String], to config: C, field: String = "config_overrides") throws -> C {
        guard !overrides.isEmpty else { return config }
        guard var root = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any] else {
            throw ServiceError.invalid(field, "configuration is not a JSON object")
        }
        var paths: [(override: String, path: [String])] = []
        for o in overrides {
            guard let eq = o.firstIndex(of: "="), eq != o.startIndex else {
                throw ServiceError.invalid(field, "'\(o)': expected path=value, e.g. train.sslBatch=32")
            }
            let path = o[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let text = String(o[o.index(after: eq)...])
            root = try set(path, text, in: root, whole: o, field: field)
            paths.append((o, path))
        }
        let config: C
        do {
            config = try JSONDecoder().decode(C.self, from: JSONSerialization.data(withJSONObject: root))
        } catch {
            throw ServiceError.invalid(field, "overrides \(overrides) give an invalid configuration: \(error)")
        }
        // An override of a field absent before must be a field the configuration has: it survives the round trip.
        guard let back = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any] else { return config }
        for (o, path) in paths {
            var level: [String: Any]? = back
            for key in path.dropLast() { level = level?[key] as? [String: Any] }
            guard let level, level[path.last!] != nil else {
                let known = (level ?? [:]).keys.sorted().joined(separator: ", ")
                throw ServiceError.invalid(field, "'\(o)': no field '\(path.last!)' (known here: \(known))")
            }
        }
        return config
    }

    enum Kind { case bool, integer, number, string }

    /// The scalar kind of a JSONSerialization value (booleans are NSNumbers of type "c").
    static func kind(of value: Any) -> Kind? {
        if value is String { return .string }
        guard let n = value as? NSNumber else { return nil }
        switch String(cString: n.objCType) {
        case "c", "B": return .bool
        case "f", "d": return .number
        default: return .integer
        }
    }

    static func set(_ path: [String], _ text: String, in object: [String: Any], whole: String, field: String) throws -> [String: Any] {
        var object = object
        let key = path[0]
        guard let current = object[key] else {
            guard path.count == 1 else {
                let known = object.keys.sorted().joined(separator: ", ")
                throw ServiceError.invalid(field, "'\(whole)': no field '\(key)' (known here: \(known))")
            }
            // Possibly an unset optional field: checked after decoding (`apply`).
            object[key] = Bool(text).map { $0 as Any } ?? Int(text).map { $0 as Any } ?? Double(text).map { $0 as Any } ?? text
            return object
        }
        if path.count > 1 {
            guard let child = current as? [String: Any] else {
                throw ServiceError.invalid(field, "'\(whole)': '\(key)' is a value, not a group")
            }
            object[key] = try set(Array(path.dropFirst()), text, in: child, whole: whole, field: field)
            return object
        }
        guard let kind = kind(of: current) else {
            throw ServiceError.invalid(field, "'\(whole)': '\(key)' is a group or list; name one of its fields")
        }
        switch kind {
        case .bool:
            guard let b = Bool(text) else { throw ServiceError.invalid(field, "'\(whole)': '\(key)' takes true or false") }
            object[key] = b
        case .integer:
            guard let i = Int(text) else { throw ServiceError.invalid(field, "'\(whole)': '\(key)' takes a whole number") }
            object[key] = i
        case .number:
            guard let d = Double(text), d.isFinite else { throw ServiceError.invalid(field, "'\(whole)': '\(key)' takes a number") }
            object[key] = d
        case .string:
            object[key] = text
        }
        return object
    }
}
