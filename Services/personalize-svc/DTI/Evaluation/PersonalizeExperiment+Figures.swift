import ComputeCore
import Datasets
import Evaluation
import Foundation

/// The report's figures: curves and scatter plots with axes and legends (`LineChart`), a slerp
/// strip between the first two concepts' DTI tokens, and a sample grid per variant.
extension PersonalizeExperiment {
    /// Variants in table and legend order.
    public static let variants = ["class-word", "dti", "ti", "ti-rescaled"]

    /// Writes every figure into `dir`; returns file names -> markdown captions.
    public func writeFigures(_ o: Outcome, to dir: URL) throws -> [(file: String, caption: String)] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var out: [(String, String)] = []
        func save(_ img: ImageBuffer, _ name: String, _ caption: String) throws {
            try PNGCodec.write(img, to: dir.appendingPathComponent(name).path)
            out.append((name, caption))
        }
        // Norm / m* per step: mean over concepts x seeds, with mean ± sd lines.
        var normSeries: [LineChart.Series] = []
        for v in ["ti", "dti"] {
            let curves = o.runs.filter { $0.variant == v }.map { $0.norms.map { $0 / o.mStar } }
            guard let n = curves.map(\.count).min(), n > 0 else { continue }
            let st = (0..<n).map { i in Stats.meanStd(curves.map { $0[i] }) }
            let x = (1...n).map(Double.init)
            normSeries.append(LineChart.Series(name: v.uppercased() + " MEAN", x: x, y: st.map(\.mean)))
            normSeries.append(LineChart.Series(name: v.uppercased() + " MEAN+SD", x: x, y: st.map { $0.mean + $0.std }))
        }
        if !normSeries.isEmpty {
            try save(LineChart.figure(normSeries, title: "TOKEN NORM", xLabel: "STEP", yLabel: "NORM / M*"), "norms.png",
                     "Token norm / m* per learning step (mean and mean + sd over concepts × seeds).")
        }
        // Probe value vs norm: the curve along learned DTI directions, and every final token.
        var probe: [LineChart.Series] = [
            LineChart.Series(name: "DTI DIRS MEAN", x: o.probeNorms.map { $0 / o.mStar }, y: o.probeCurve, markers: true),
            LineChart.Series(name: "DTI DIRS MEAN-SD", x: o.probeNorms.map { $0 / o.mStar }, y: zip(o.probeCurve, o.probeCurveSpread).map { $0 - $1 }),
        ]
        for v in ["dti", "ti", "ti-rescaled"] {
            let rs = o.runs.filter { $0.variant == v }
            probe.append(LineChart.Series(name: v.uppercased() + " FINAL", x: rs.map { $0.scores.norm / o.mStar }, y: rs.map(\.scores.positional), lines: false))
        }
        try save(LineChart.figure(probe, title: "POSITIONAL PROBE", xLabel: "NORM / M*", yLabel: "POSITIONS RECOVERED", logX: true, yRange: 0...1),
                 "probe-vs-norm.png", "Positional probe (fraction of \(evaluator.probe.positions) positions recovered from MiniLM's first LayerNorm output) vs token norm / m*: the learned DTI directions rescaled (mean, mean − sd over concepts × seeds) and every final token.")
        // Probe during learning.
        var during: [LineChart.Series] = []
        for v in ["ti", "dti"] {
            let rs = o.runs.filter { $0.variant == v && !$0.probes.isEmpty }
            guard let first = rs.first else { continue }
            let n = rs.map(\.probes.count).min()!
            during.append(LineChart.Series(name: v.uppercased(), x: first.probeSteps.prefix(n).map(Double.init),
                                      y: (0..<n).map { i in Stats.meanStd(rs.map { $0.probes[i] }).mean }, markers: true))
        }
        if !during.isEmpty {
            try save(LineChart.figure(during, title: "PROBE WHILE LEARNING", xLabel: "STEP", yLabel: "POSITIONS RECOVERED", yRange: 0...1),
                     "probe-steps.png", "Positional probe of the token while it is learned (mean over concepts × seeds).")
        }
        // Subject vs prompt score, every run.
        let scatter = Self.variants.map { v in
            let rs = o.runs.filter { $0.variant == v }
            return LineChart.Series(name: v.uppercased(), x: rs.map { $0.scores.subject ?? .nan }, y: rs.map { $0.scores.prompt ?? .nan }, lines: false)
        }
        try save(LineChart.figure(scatter, title: "SUBJECT VS PROMPT", xLabel: "SUBJECT SCORE", yLabel: "PROMPT SCORE"),
                 "scores.png", "Subject score (EfficientNet cosine to the concept's images) vs prompt score (colour asked for = colour generated) of every run.")
        // Slerp strip between the first two concepts' seed-0 DTI tokens.
        if concepts.count >= 2, let a = o.runs.first(where: { $0.variant == "dti" && $0.concept == concepts[0].name }),
           let b = o.runs.first(where: { $0.variant == "dti" && $0.concept == concepts[1].name }) {
            var imgs: [ImageBuffer] = [], caps: [String] = []
            let k = max(plan.slerpPoints, 2)
            for i in 0..<k {
                let t = Float(i) / Float(k - 1)
                let e = ConceptBlend.blend(a.embedding, b.embedding, t: t, norm: evaluator.mStar)
                imgs += try evaluator.images(["a photo of a <blend>"], samples: 2, name: "<blend>", embedding: e)
                caps += ["T=\(String(format: "%.2f", t))", "T=\(String(format: "%.2f", t))"]
            }
            let grid = try ImageGrid.make(concepts[0].images.prefix(1) + imgs + concepts[1].images.prefix(1), columns: imgs.count + 2, cellSize: 48,
                                          captions: ["A"] + caps + ["B"], captionLines: 1)
            try save(grid, "slerp.png", "Slerp from \(concepts[0].name) (A, left) to \(concepts[1].name) (B, right) at norm m*, prompt \"a photo of a <blend>\", two seeds per t.")
        }
        // Samples: per concept one row — its first image, then per variant "a photo of a <c>" and "a red/blue <c>".
        var cells: [ImageBuffer] = [], caps: [String] = []
        for c in concepts {
            cells.append(c.images[0]); caps.append(c.facts.color + " " + c.facts.garment)
            let other = c.colorIndex == 0 ? 5 : 0
            let attr = "a \(ColorPalette.colors[other].name) \(c.name)"
            for v in Self.variants {
                guard let r = o.runs.first(where: { $0.variant == v && $0.concept == c.name && $0.seed == plan.seeds[0] }) else { continue }
                cells += try evaluator.images(["a photo of a \(c.name)", attr], samples: 1, name: c.name, embedding: r.embedding)
                caps += [v, v + " " + ColorPalette.colors[other].name]
            }
        }
        let columns = 1 + 2 * Self.variants.count
        try save(try ImageGrid.make(cells, columns: columns, cellSize: 48, captions: caps, captionLines: 2), "samples.png",
                 "One row per concept: its first image, then for each variant (\(Self.variants.joined(separator: ", "))) \"a photo of a <c>\" and \"a red <c>\" (\"a blue <c>\" for red concepts), seed \(plan.seeds[0]).")
        return out
    }
}
