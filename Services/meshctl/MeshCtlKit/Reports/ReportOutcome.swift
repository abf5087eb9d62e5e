import Foundation

/// Everything a report's markdown is rendered from: the plan, where and when it ran, one row per
/// measured cell, and the figures written.
public struct ReportOutcome<Plan: Codable & Sendable, Row: Codable & Sendable>: Codable, Sendable {
    public var plan: Plan
    public var provenance: [String: String]
    public var rows: [Row]
    public var wallSeconds: Double
    public var figures: [String]

    public init(plan: Plan, provenance: [String: String], rows: [Row], wallSeconds: Double, figures: [String]) {
        self.plan = plan; self.provenance = provenance; self.rows = rows; self.wallSeconds = wallSeconds; self.figures = figures
    }
}
