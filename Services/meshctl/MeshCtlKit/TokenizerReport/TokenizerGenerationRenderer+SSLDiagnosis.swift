import Evaluation
import Foundation
import MeshKit
import VTP

/// The SSL diagnosis of the tokenizer report (issue 11 item 2): does the SSL objective learn (DINO
/// loss well below ln K, heads not collapsed), and does any knob bring the SSL variant's probes
/// above the AE's at the same budget? Every sentence is computed from the trial rows.
extension TokenizerGenerationRenderer {
    /// The diagnosis trials measured so far, in plan order.
    static func diagnosisRows(_ o: TokenizerGenerationReport.Outcome) -> [Row] { o.rows.filter { $0.trial != nil } }

    /// The diagnosis section (empty when the plan has none; "Pending" until every trial is measured).
    static func sslDiagnosisSection(_ o: TokenizerGenerationReport.Outcome) -> String {
        guard let d = o.plan.sslDiagnosis else { return "" }
        let trials = diagnosisRows(o)
        var s = "## SSL diagnosis: \(d.variant) on \(d.data) at x\(f(d.budget, 0))\n\n"
        guard trials.count == d.trials.count else {
            return s + "**Pending**: measured \(trials.count) of \(d.trials.count) trials so far (rerunning the command resumes from its cache).\n\n"
        }
        guard let ae = rows(o, d.data).first(where: { $0.variant == "ae" && $0.budget == d.budget })?.tokenizerMetrics else {
            return s + "The AE at x\(f(d.budget, 0)) on \(d.data) is not measured; nothing to compare with.\n\n"
        }
        let k = (try? VTPPresets.resolve("\(d.variant)-\(d.data)-\(o.plan.size)").model.prototypes) ?? 0
        s += """
        Each trial retrains \(d.variant) (`\(d.variant)-\(d.data)-\(o.plan.size)`, \(trials.first.map { String($0.steps) } ?? "?") steps, seed \(o.plan.seed)) with one knob changed
        through `tokenizer.train`'s config overrides, and is scored like every tokenizer of the report; no generators.
        DINO columns are means over the last tenth of training; ln K = \(f(log(Double(max(k, 1))))) for the preset's \(k) prototypes
        (a trial that changes the prototypes has its own). The last two columns are the trial's probe minus the AE's at the same budget (± the combined std).

        | trial | overrides | DINO loss | teacher entropy | batch-mean entropy | rFD ↓ | probe CLS ↑ | probe grid ↑ | CLS − ae | grid − ae |
        |---|---|---|---|---|---|---|---|---|---|
        | ae (no SSL) | – | – | – | – | \(e(ae.rFD, 1)) | \(e(ae.probeCLS)) | \(e(ae.probeGrid)) | | |

        """
        for r in trials {
            let m = r.tokenizerMetrics
            s += "| \(r.trial ?? "") | \(overrides(d, r).map { "`\($0)`" }.joined(separator: " ")) | \(tail(r, "loss_dino")) | " +
                 "\(tail(r, "dino_teacher_entropy")) | \(tail(r, "dino_batch_entropy")) | \(e(m.rFD, 1)) | \(e(m.probeCLS)) | \(e(m.probeGrid)) | " +
                 "\(probeDifference(m.probeCLS, ae.probeCLS)) | \(probeDifference(m.probeGrid, ae.probeGrid)) |\n"
        }
        s += "\n" + sslDiagnosisVerdict(o, ae: ae, trials: trials).joined(separator: "\n") + "\n\n"
        return s
    }

    /// Computed verdicts: does the SSL loss learn in each trial, and does the best trial's probe beat the AE's?
    static func sslDiagnosisVerdict(_ o: TokenizerGenerationReport.Outcome, ae: TokenizerMetrics, trials: [Row]) -> [String] {
        guard let d = o.plan.sslDiagnosis, !trials.isEmpty else { return [] }
        var lines: [String] = []
        // "Learns": the DINO loss ends below half of ln K (its trial's own K).
        let notLearned = trials.filter { r in
            guard let dino = tailMean(r, "loss_dino"), let k = prototypes(o, d, r) else { return true }
            return dino >= 0.5 * log(Double(k))
        }
        lines.append("- The DINO loss ends below half of ln K in \(trials.count - notLearned.count) of \(trials.count) trials" +
                     (notLearned.isEmpty ? "." : " (not in: \(notLearned.compactMap(\.trial).joined(separator: "; ")))."))
        for (name, value, aeValue) in [("CLS", { (m: TokenizerMetrics) in m.probeCLS }, ae.probeCLS),
                                       ("latent-grid", { (m: TokenizerMetrics) in Optional(m.probeGrid) }, Optional(ae.probeGrid))] {
            guard let aeValue else { continue }
            let scored = trials.compactMap { r in value(r.tokenizerMetrics).map { (r, $0) } }
            guard let best = scored.max(by: { $0.1.value < $1.1.value }) else { continue }
            let holds = scored.filter { Verdict.judge($0.1, minus: aeValue) == .holds }.compactMap(\.0.trial)
            lines.append("- \(d.variant)'s \(name) probe above the AE's (\(e(aeValue))): best trial '\(best.0.trial ?? "")' \(e(best.1)), " +
                         "difference \(probeDifference(best.1, aeValue)): \(Verdict.judge(best.1, minus: aeValue).rawValue); " +
                         (holds.isEmpty ? "no trial's probe is above the AE's by two standard errors." : "above it by two standard errors in: \(holds.joined(separator: "; ")).") )
        }
        return lines
    }

    /// The trial's overrides, from the plan.
    private static func overrides(_ d: TokenizerGenerationPlan.SSLDiagnosis, _ r: Row) -> [String] {
        d.trials.first { $0.label == r.trial }?.overrides ?? []
    }

    /// The prototypes K of a trial (the preset's, or its override).
    private static func prototypes(_ o: TokenizerGenerationReport.Outcome, _ d: TokenizerGenerationPlan.SSLDiagnosis, _ r: Row) -> Int? {
        guard let preset = try? VTPPresets.resolve("\(d.variant)-\(d.data)-\(o.plan.size)") else { return nil }
        return (try? ConfigOverrides.apply(overrides(d, r), to: preset))?.model.prototypes
    }

    private static func tail(_ r: Row, _ metric: String) -> String { tailMean(r, metric).map { f($0) } ?? "not recorded" }
}
