import ComputeCore
import Foundation

/// Concept names as they appear in prompts: `<` + 1-32 of [a-z0-9_-] (starting alphanumeric) + `>`,
/// e.g. `<my-bag>`.
public enum ConceptName {
    public static let maxLength = 32

    /// Returns `name` if it is `<…>`-shaped, else throws naming the field `name` and the rule.
    @discardableResult
    public static func validate(_ name: String) throws -> String {
        let inner = name.dropFirst().dropLast()
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-")
        guard name.hasPrefix("<"), name.hasSuffix(">"), name.count >= 3, inner.count <= maxLength,
              inner.allSatisfy({ allowed.contains($0) }), let first = inner.first, first.isLetter || first.isNumber else {
            throw MethodError.invalidInput(field: "name", message: "must look like <my-bag>: '<' + 1-\(maxLength) of a-z 0-9 _ - (starting with a letter or digit) + '>', got '\(name)'")
        }
        return name
    }
}
