import Datasets
import Evaluation
import Foundation
import VTP

/// The understanding and reconstruction side of the tokenizer report (probes, rFD, the SSL
/// heads' health, training curves); the generation side is in `TokenizerGenerationRenderer`.
extension TokenizerGenerationRenderer {
    /// Metrics drawn as training curves, one figure per budget and metric, one line per variant.
    static let curveMetrics = ["loss_rec", "loss_clip", "loss_dino", "loss_ibot", "dino_teacher_entropy", "dino_batch_entropy"]

    /// Training-curve figures per dataset and budget (from each tokenizer run's recorded progress). -> file names
    static func writeTrainingFigures(_ o: TokenizerGenerationReport.Outcome, figDir: URL) throws -> [String] {
        var files: [String] = []
        for part in o.plan.parts {
            for b in o.plan.budgets {
                let rows = rows(o, part.data).filter { $0.budget == b }
                for m in curveMetrics {
                    let series: [LineChart.Series] = rows.compactMap { r in
                        guard let s = r.history?.series[m], s.values.count >= 2 else { return nil }
                        let w = max(1, s.values.count / 50)
                        return .init(name: r.variant, x: s.steps, y: LinePlot.smoothed(s.values, window: w), markers: false)
                    }
                    guard !series.isEmpty else { continue }
                    var chart = LineChart(series, xLabel: "tokenizer training step", yLabel: m,
                                          title: "\(part.data): \(m) at x\(f(b, 0)) (moving average over ~2 % of the run)")
                    chart.logY = m == "loss_rec"
                    let file = figure(m, part.data, b)
                    try PNGCodec.write(chart.render(), to: figDir.appendingPathComponent(file).path)
                    files.append(file)
                }
            }
        }
        return files
    }

    /// a − b with the combined std of two independent estimates ("n/a" when either is absent).
    static func probeDifference(_ a: Estimate?, _ b: Estimate?) -> String {
        guard let a, let b else { return "n/a" }
        return String(format: "%+.3f ± %.3f", a.value - b.value, (a.std * a.std + b.std * b.std).squareRoot())
    }

    /// Mean of the last tenth of a recorded series (nil if it has fewer than 10 points).
    static func tailMean(_ r: Row, _ metric: String) -> Double? {
        guard let v = r.history?.series[metric]?.values, v.count >= 10 else { return nil }
        let tail = v.suffix(max(1, v.count / 10))
        return tail.reduce(0, +) / Double(tail.count)
    }

    /// The SSL heads' health per tokenizer that has them: DINO loss against ln K and the collapse
    /// statistics of its teacher targets (`SSLCollapseStats`), last tenth of training.
    static func sslTable(_ o: TokenizerGenerationReport.Outcome, _ data: String) -> String {
        var s = """
        | variant | budget | DINO loss | ln K | teacher entropy (per image) | batch-mean entropy | effective prototypes |
        |---|---|---|---|---|---|---|

        """
        var any = false
        for r in rows(o, data) {
            guard let dino = tailMean(r, "loss_dino"),
                  let k = try? VTPPresets.resolve("\(r.variant)-\(r.data)-\(o.plan.size)").model.prototypes else { continue }
            any = true
            let te = tailMean(r, "dino_teacher_entropy"), be = tailMean(r, "dino_batch_entropy")
            s += "| \(r.variant) | x\(f(r.budget, 0)) | \(f(dino)) | \(f(log(Double(k)))) | \(te.map { f($0) } ?? "not recorded") | " +
                 "\(be.map { f($0) } ?? "not recorded") | \(be.map { f(exp($0), 1) } ?? "n/a") of \(k) |\n"
        }
        return any ? s : "No tokenizer of this plan has SSL heads.\n"
    }

    /// Computed verdicts of the understanding side: VTP vs AE probes per budget, each variant's
    /// change with compute, VTP's probe gain vs the AE's, SSL alone vs the AE, SSL head health.
    static func understandingVerdict(_ o: TokenizerGenerationReport.Outcome, _ data: String) -> [String] {
        var lines: [String] = []
        let rows = rows(o, data)
        func row(_ v: String, _ b: Double) -> Row? { rows.first { $0.variant == v && $0.budget == b } }
        // The CLS probe is absent for tokenizers without a CLS token (RecTok): n/a, not shown.
        let diff = probeDifference
        func judge(_ a: Estimate?, _ b: Estimate?) -> String {
            guard let a, let b else { return Verdict.notShown.rawValue }
            return Verdict.judge(a, minus: b).rawValue
        }
        for b in o.plan.budgets {
            guard let ae = row("ae", b)?.tokenizerMetrics else { continue }
            if let v = row("vtp", b)?.tokenizerMetrics {
                lines.append("- x\(f(b, 0)), a semantic latent (vtp's probe above the AE's): on the latent grid vtp − ae = \(diff(v.probeGrid, ae.probeGrid)) " +
                             "(\(Verdict.judge(v.probeGrid, minus: ae.probeGrid).rawValue)); on the CLS \(diff(v.probeCLS, ae.probeCLS)) " +
                             "(\(judge(v.probeCLS, ae.probeCLS))); rFD vtp \(e(v.rFD, 1)) vs ae \(e(ae.rFD, 1)).")
            }
            if let s = row("ssl-ae", b)?.tokenizerMetrics {
                lines.append("- x\(f(b, 0)), SSL alone (ssl-ae's probe above the AE's): CLS \(diff(s.probeCLS, ae.probeCLS)) " +
                             "(\(judge(s.probeCLS, ae.probeCLS))); latent grid \(diff(s.probeGrid, ae.probeGrid)) " +
                             "(\(Verdict.judge(s.probeGrid, minus: ae.probeGrid).rawValue)).")
            }
        }
        guard let lo = o.plan.budgets.min(), let hi = o.plan.budgets.max(), lo != hi else { return lines }
        for v in o.plan.variants {
            guard let a = row(v, lo)?.tokenizerMetrics, let b = row(v, hi)?.tokenizerMetrics else { continue }
            lines.append("- \(v) from x\(f(lo, 0)) to x\(f(hi, 0)): rFD \(f(a.rFD.value, 1)) -> \(f(b.rFD.value, 1)) " +
                         "(\(Verdict.judge(b.rFD, minus: a.rFD, wantPositive: false).rawValue) that it improves); latent-grid probe " +
                         "\(diff(b.probeGrid, a.probeGrid)) (\(Verdict.judge(b.probeGrid, minus: a.probeGrid).rawValue) that it rises).")
        }
        if let a0 = row("ae", lo)?.tokenizerMetrics, let a1 = row("ae", hi)?.tokenizerMetrics,
           let v0 = row("vtp", lo)?.tokenizerMetrics, let v1 = row("vtp", hi)?.tokenizerMetrics {
            let gv = v1.probeGrid.value - v0.probeGrid.value, ga = a1.probeGrid.value - a0.probeGrid.value
            let se = [a0, a1, v0, v1].map { $0.probeGrid.std * $0.probeGrid.std }.reduce(0, +).squareRoot()
            lines.append(String(format: "- Scaling of understanding (VTP's latent-grid probe gains more with compute than the AE's): VTP %+.3f, AE %+.3f, difference %+.3f ± %.3f: %@.",
                                gv, ga, gv - ga, se, Verdict.judge(difference: gv - ga, standardError: se).rawValue))
        }
        for r in rows where r.budget == hi {
            guard let dino = tailMean(r, "loss_dino"), let be = tailMean(r, "dino_batch_entropy"), let te = tailMean(r, "dino_teacher_entropy"),
                  let k = try? VTPPresets.resolve("\(r.variant)-\(r.data)-\(o.plan.size)").model.prototypes else { continue }
            let lnK = log(Double(k))
            let state = te > 0.9 * lnK ? "close to uniform collapse (per-image targets near ln K)"
                : be < 1 ? "close to dominant collapse (the batch sits on about \(f(exp(be), 1)) prototypes)"
                : "not collapsed (sharp per-image targets spread over about \(f(exp(be), 1)) prototypes)"
            lines.append("- \(r.variant) at x\(f(hi, 0)): DINO loss \(f(dino)) vs ln K = \(f(lnK)); teacher entropy \(f(te)), batch-mean entropy \(f(be)): \(state).")
        }
        return lines
    }
}
