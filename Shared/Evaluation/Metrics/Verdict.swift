/// A claim judged against its spread: "holds" when the difference in the claimed direction is
/// above two standard errors, "does not hold" when it is below minus two, "not shown" otherwise.
/// Every report's verdict sentences come from here, never from fixed prose.
public enum Verdict: String, Codable, Sendable {
    case holds = "holds"
    case doesNotHold = "does not hold"
    case notShown = "not shown"

    /// Judges `difference` (claimed direction positive unless `wantPositive` is false) against `standardError`.
    public static func judge(difference: Double, standardError: Double, wantPositive: Bool = true) -> Verdict {
        let z = wantPositive ? difference : -difference
        guard standardError.isFinite, z.isFinite else { return .notShown }
        if z > 2 * standardError { return .holds }
        if z < -2 * standardError { return .doesNotHold }
        return .notShown
    }

    /// Judges a − b for two independent estimates (standard error √(σa² + σb²) from their bootstrap stds).
    public static func judge(_ a: Estimate, minus b: Estimate, wantPositive: Bool = true) -> Verdict {
        judge(difference: a.value - b.value, standardError: (a.std * a.std + b.std * b.std).squareRoot(), wantPositive: wantPositive)
    }
}
