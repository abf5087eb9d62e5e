import Datasets
import Evaluation
import Foundation

/// Writes `distill.md` and its figures (`distill/*.png`) from a `DistillReportOutcome`. Every
/// verdict sentence is computed from the numbers, with the rule it applies stated next to it.
public enum DistillReportRenderer {
    /// Targets of issue 13.
    static let scmGFDTolerance = 0.10, meanFlowGFDTolerance = 0.15, accuracyPoints = 3.0
    /// The ×1000 run counts as unstable when it failed, or its median gradient norm over the second
    /// half of training is at least this many times the ×1 run's.
    static let instabilityRatio = 2.0

    public static func write(_ o: DistillReportOutcome, to dir: URL) throws {
        let figDir = dir.appendingPathComponent("distill")
        try FileManager.default.createDirectory(at: figDir, withIntermediateDirectories: true)
        var figures: [String: String] = [:]
        func save(_ img: ImageBuffer, _ name: String) throws {
            try PNGCodec.write(img, to: figDir.appendingPathComponent(name).path)
            figures[name] = "distill/\(name)"
        }
        for method in o.plan.methods {
            let series = o.curves.filter { $0.method == method && !$0.points.isEmpty }.map { c in
                LineChart.Series(name: "x\(Int(c.scale))", x: c.points.map { Double($0.step) },
                                 y: c.points.map { log10(max($0.gradNorm, 1e-12)) })
            }
            if !series.isEmpty {
                var chart = LineChart(series, xLabel: "training step", yLabel: "log10 grad norm",
                                      title: "\(method): gradient norm before clipping")
                chart.markers = false
                try save(chart.render(), "gradnorm-\(method).png")
            }
        }
        let teacher = o.rows.first { $0.method == "teacher" }
        /// One series per method (x = steps) with [low, high] from the metric's spread, plus the
        /// teacher as a flat line over the same steps.
        func stepSeries(_ metric: String, low: (Double, [String: Double]) -> Double,
                        high: (Double, [String: Double]) -> Double) -> [LineChart.Series] {
            var out: [LineChart.Series] = []
            for m in o.plan.methods {
                let rs = o.rows.filter { $0.method == m && $0.scale == 1 && $0.metrics[metric] != nil }.sorted { $0.steps < $1.steps }
                guard !rs.isEmpty else { continue }
                out.append(LineChart.Series(name: "\(m) x1", x: rs.map { Double($0.steps) }, y: rs.map { $0.metrics[metric]! },
                                            low: rs.map { low($0.metrics[metric]!, $0.metrics) },
                                            high: rs.map { high($0.metrics[metric]!, $0.metrics) }))
            }
            if let t = teacher, let v = t.metrics[metric], let xs = out.first?.x {
                out.append(LineChart.Series(name: "teacher, \(t.steps) steps", x: [xs.min()!, xs.max()!], y: [v, v],
                                            low: [low(v, t.metrics), low(v, t.metrics)], high: [high(v, t.metrics), high(v, t.metrics)]))
            }
            return out
        }
        let gfd = stepSeries("gfd", low: { v, m in v - (m["gfd_std"] ?? 0) }, high: { v, m in v + (m["gfd_std"] ?? 0) })
        if !gfd.isEmpty {
            try save(LineChart(gfd, xLabel: "student sampling steps", yLabel: "gFD (±1 std)", title: "gFD vs steps").render(),
                     "gfd-vs-steps.png")
        }
        let ms = stepSeries("ms_per_image", low: { v, m in m["ms_per_image_min"] ?? v }, high: { v, m in m["ms_per_image_max"] ?? v })
        if !ms.isEmpty {
            try save(LineChart(ms, xLabel: "student sampling steps", yLabel: "ms per image (min-max)",
                               title: "time per image vs steps").render(), "ms-vs-steps.png")
        }
        if let g = o.grid {
            let images = g.rows.flatMap(\.images)
            let captions = g.rows.flatMap { row in row.images.indices.map { "\(row.label): \(g.prompts[$0])" } }
            try save(try ImageGrid.make(images, columns: g.prompts.count, cellSize: 64, captions: captions, captionLines: 3), "samples.png")
        }
        try markdown(o, figures: figures).write(to: dir.appendingPathComponent("distill.md"), atomically: true, encoding: .utf8)
    }

    static func f(_ x: Double?, _ p: Int = 2) -> String { x.map { $0.isFinite ? String(format: "%.\(p)f", $0) : "n/a" } ?? "n/a" }
    static func pct(_ x: Double) -> String { String(format: "%+.1f %%", x * 100) }

    static func row(_ o: DistillReportOutcome, _ method: String, scale: Float = 1, steps: Int) -> DistillReportOutcome.Row? {
        o.rows.first { $0.method == method && $0.scale == scale && $0.steps == steps }
    }

    /// gFD and attribute-accuracy verdict of `s` against the teacher.
    static func qualityVerdict(_ name: String, _ s: DistillReportOutcome.Row?, teacher t: DistillReportOutcome.Row?,
                               tolerance: Double) -> String {
        guard let s, let t, let sg = s.metrics["gfd"], let tg = t.metrics["gfd"], tg > 0 else {
            return "- \(name): not measured (no evaluated row)."
        }
        let rel = (sg - tg) / tg
        let spread = ((s.metrics["gfd_std"] ?? 0) * (s.metrics["gfd_std"] ?? 0) + (t.metrics["gfd_std"] ?? 0) * (t.metrics["gfd_std"] ?? 0)).squareRoot() / tg
        var out = "- \(name): gFD \(f(sg)) ± \(f(s.metrics["gfd_std"])) vs the teacher's \(f(tg)) ± \(f(t.metrics["gfd_std"])) "
        out += "(\(pct(rel)), combined spread ±\(String(format: "%.1f", spread * 100)) %): "
        out += rel <= tolerance ? "**meets** the ≤ \(Int(tolerance * 100)) % target" : "**misses** the ≤ \(Int(tolerance * 100)) % target"
        if abs(rel - tolerance) < spread { out += " (the threshold lies within the spread, so this is not decisive)" }
        out += "."
        var acc: [String] = []
        var ok = true
        for (k, label) in [("class_accuracy", "class"), ("color_accuracy", "colour")] {
            guard let a = s.metrics[k], let b = t.metrics[k] else { continue }
            let d = (a - b) * 100
            ok = ok && d >= -accuracyPoints
            acc.append("\(label) \(f(a * 100, 1)) % vs \(f(b * 100, 1)) % (\(String(format: "%+.1f", d)) points)")
        }
        if !acc.isEmpty {
            out += " Attribute accuracy: " + acc.joined(separator: ", ") + ": "
            out += ok ? "**within** \(Int(accuracyPoints)) points of the teacher." : "**more than** \(Int(accuracyPoints)) points below the teacher."
        }
        return out
    }

    /// Median gradient norm over the second half of a run.
    static func lateMedian(_ c: DistillReportOutcome.Curve) -> Double? {
        let pts = c.points.filter { $0.gradNorm.isFinite }
        guard !pts.isEmpty else { return nil }
        let last = pts.map(\.step).max()!
        let late = pts.filter { $0.step * 2 > last }.map(\.gradNorm).sorted()
        return late.isEmpty ? nil : late[late.count / 2]
    }

    public static func scaleVerdict(_ o: DistillReportOutcome, method: String) -> String {
        guard let a = o.curves.first(where: { $0.method == method && $0.scale == 1 }),
              let b = o.curves.first(where: { $0.method == method && $0.scale == 1000 }) else { return "- \(method): not run at both scales." }
        if let failure = b.failure {
            return "- \(method) ×1000: the run **did not finish** (\(failure)) while ×1 " +
                (a.failure == nil ? "did: the instability the study reports **is shown**." : "failed too (\(a.failure!)): no conclusion.")
        }
        guard let ma = lateMedian(a), let mb = lateMedian(b), ma > 0 else { return "- \(method): no gradient norms recorded." }
        let ratio = mb / ma
        let maxA = a.points.map(\.gradNorm).max() ?? .nan, maxB = b.points.map(\.gradNorm).max() ?? .nan
        var s = "- \(method): median gradient norm over the second half \(f(mb, 3)) at ×1000 vs \(f(ma, 3)) at ×1 (ratio \(f(ratio))); "
        s += "maxima \(f(maxB, 3)) vs \(f(maxA, 3)). Rule: unstable if the ratio is ≥ \(f(instabilityRatio, 0)) or the run fails. "
        s += ratio >= instabilityRatio ? "The instability the study reports **is shown**." : "The study's instability **is not shown** here (see the curves)."
        return s
    }

    public static func markdown(_ o: DistillReportOutcome, figures: [String: String]) -> String {
        let p = o.plan, pv = o.provenance
        var s = "# Few-step students of the generator: sCM and MeanFlow (issue 13)\n\n"
        s += "Generated by `meshctl report distill --plan \(p.name)` at commit `\(pv["commit"] ?? "?")`"
        s += pv["dirty"] == "yes" ? " (**with uncommitted changes**)" : " (clean tree)"
        s += " on \(pv["date"] ?? "?"), \(pv["cpu"] ?? "?"), \(pv["cores"] ?? "?") cores; wall time \(f(o.seconds / 60, 1)) min"
        s += " (models reused from the report cache are not retrained).\n\n"
        s += "## Setup\n\n"
        s += "- Teacher: `\(p.generatorPreset)` trained \(p.generatorSteps) steps on the latents of a `\(p.tokenizerPreset)` tokenizer "
        s += "(\(p.tokenizerSteps) steps) of `fmnist-color`" + (p.generatorTrainLimit > 0 ? " (\(p.generatorTrainLimit) training images)" : "") + "; "
        s += "it samples with \(p.teacherSteps) Euler steps and classifier-free guidance (two rows per forward).\n"
        s += "- Students: `\(p.distillPreset)`, \(p.distillSteps) optimiser steps, \(p.distillData == 0 ? "the preset's" : String(p.distillData)) guided teacher samples as x0 data, "
        s += "methods \(p.methods.joined(separator: ", ")) at time-input scales \(p.timeScales.map { "×\(Int($0))" }.joined(separator: " and ")); "
        s += "a student takes no CFG pass (the teacher's guidance is distilled in).\n"
        s += "- Evaluation (`distill.evaluate`, evaluator `\(p.evaluator)`): \(o.images) images per row, prompts balanced over the 80 "
        s += "(class, colour) pairs, image i from noise of seed \(p.seed) + i, identical in every row. gFD = FD-EffNet against "
        s += "\(o.referenceImages) real `\(o.referenceDataset)` images (± bootstrap std); class accuracy by a classifier trained on real "
        s += "images only, colour accuracy by the garment's hue (95 % bootstrap intervals). ms per image = sampling plus decoding "
        s += "inside the service, per chunk of images (median, min–max) on this shared machine; the controlled latency is `mesh-bench distill`.\n\n"
        s += "## Teacher vs students\n\n"
        s += "| model | scale | steps | gFD ± std | class acc [95 %] | colour acc [95 %] | ms / image (min–max) | images / s | speed-up |\n"
        s += "|---|---|---|---|---|---|---|---|---|\n"
        let teacher = o.rows.first { $0.method == "teacher" }
        let tms = teacher?.metrics["ms_per_image"]
        for r in o.rows {
            let m = r.metrics
            func acc(_ k: String) -> String {
                guard let v = m[k] else { return "n/a" }
                return "\(f(v * 100, 1)) % [\(f((m[k + "_low"] ?? .nan) * 100, 1)), \(f((m[k + "_high"] ?? .nan) * 100, 1))]"
            }
            let speed = (tms != nil && m["ms_per_image"] != nil) ? "×" + f(tms! / m["ms_per_image"]!, 1) : "n/a"
            s += "| \(r.method == "teacher" ? "teacher (guidance \(f(Double(r.guidance), 1)))" : r.method) | ×\(Int(r.scale)) | \(r.steps) | "
            s += "\(f(m["gfd"])) ± \(f(m["gfd_std"])) | \(acc("class_accuracy")) | \(acc("color_accuracy")) | "
            s += "\(f(m["ms_per_image"], 1)) (\(f(m["ms_per_image_min"], 1))–\(f(m["ms_per_image_max"], 1))) | \(f(m["images_per_s"], 1)) | \(speed) |\n"
        }
        s += "\n## Verdicts (computed from the table)\n\n"
        s += qualityVerdict("sCM at 2 steps (×1)", row(o, "scm", steps: 2), teacher: teacher, tolerance: scmGFDTolerance) + "\n"
        s += qualityVerdict("MeanFlow at 4 steps (×1)", row(o, "meanflow", steps: 4), teacher: teacher, tolerance: meanFlowGFDTolerance) + "\n"
        if let r = row(o, "scm", steps: 2), let a = r.metrics["ms_per_image"], let t = tms {
            s += "- Speed: sCM at 2 steps takes \(f(a, 1)) ms per image against the teacher's \(f(t, 1)) ms: ×\(f(t / a, 1)) faster.\n"
        }
        s += "\n## ×1 vs ×1000 time-input scale\n\n"
        s += "| method | scale | steps recorded | grad norm, median of 2nd half | max | final loss | status |\n|---|---|---|---|---|---|---|\n"
        for c in o.curves {
            s += "| \(c.method) | ×\(Int(c.scale)) | \(c.points.count) | \(f(lateMedian(c), 4)) | \(f(c.points.map(\.gradNorm).max(), 4)) | "
            s += "\(f(c.points.last?.loss, 4)) | \(c.failure.map { "failed: \($0)" } ?? "finished") |\n"
        }
        s += "\n" + p.methods.map { scaleVerdict(o, method: $0) }.joined(separator: "\n") + "\n\n"
        for m in p.methods {
            if let fig = figures["gradnorm-\(m).png"] {
                s += "![\(m) gradient norm, ×1 (blue) vs ×1000 (orange)](\(fig))\n\n"
            }
        }
        s += "## Quality and time against steps\n\n"
        if let fig = figures["gfd-vs-steps.png"] { s += "![gFD vs steps](\(fig))\n\n" }
        if let fig = figures["ms-vs-steps.png"] { s += "![ms per image vs steps](\(fig))\n\n" }
        if let g = o.grid, let fig = figures["samples.png"] {
            s += "## Samples side by side\n\n"
            s += "Rows: \(g.rows.map(\.label).joined(separator: ", ")); columns: the prompts below, seed \(g.seed), "
            s += "teacher guidance \(f(Double(g.guidance), 1)) (the students carry it distilled in). Generated with `generator.generate`.\n\n"
            s += "![samples](\(fig))\n\n"
            s += g.prompts.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n") + "\n"
        }
        return s
    }
}
