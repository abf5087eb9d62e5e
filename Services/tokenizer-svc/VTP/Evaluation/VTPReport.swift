import ComputeCore
import Datasets
import Evaluation
import Foundation

/// The tokenizer experiment (METHODS.md §1): the four variants at several budgets with the same
/// seed and data, evaluated side by side and written as markdown + PNG figures.
public struct VTPReport {
    public struct Entry: Codable, Sendable {
        public var variant: String
        public var budget: Double
        public var steps: Int
        public var seconds: Double
        public var imagesPerSecond: Double
        public var metrics: TokenizerMetrics
        public var losses: [String: [Double]]
    }

    public var data: String = "fmnist32"
    public var size: String = "s"
    public var budgets: [Double] = [1, 3]
    public var seed: UInt64 = 0
    public var evaluator = TokenizerEvaluator()
    /// Where the report was generated (commit, dirty, date, cpu, cores), printed in its header.
    public var provenance: [String: String] = [:]
    public init() {}

    /// Cache tag of one run: preset, budget and a hash of the fully resolved config, so a
    /// changed config never reuses a stale checkpoint (the caller keys `cacheDir` by the
    /// library's source hash).
    public static func cacheTag(_ cfg: VTPConfig, budget: Double) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325          // FNV-1a 64
        for b in try cfg.json().utf8 { h = (h ^ UInt64(b)) &* 0x0100_0000_01b3 }
        return "\(cfg.preset)-x\(budget)-" + String(h, radix: 16)
    }

    /// Trains (or reuses cached checkpoints in `cacheDir`) and evaluates every variant x budget,
    /// then writes `outputDir/tokenizer.md` and `outputDir/tokenizer/*.png`.
    public func run(outputDir: URL, cacheDir: URL, log: @escaping (String) -> Void) throws -> [Entry] {
        let fm = FileManager.default
        try fm.createDirectory(at: cacheDir, withIntermediateDirectories: true)
        let figDir = outputDir.appendingPathComponent("tokenizer")
        try fm.createDirectory(at: figDir, withIntermediateDirectories: true)
        let text = try TextEmbeddingCache.miniLM()
        var entries: [Entry] = []
        var grids: [String: [ImageBuffer]] = [:]
        var dataCache: VTPData?
        let fx = try EffNetFeatureExtractor(resolution: evaluator.fdResolution)
        for budget in budgets {
            for variant in VTPVariant.allCases {
                var cfg = try VTPPresets.resolve("\(variant.rawValue)-\(data)-\(size)", budget: budget)
                cfg.train.seed = seed
                let tag = try Self.cacheTag(cfg, budget: budget)
                let ckpt = cacheDir.appendingPathComponent(tag + ".safetensors").path
                let entryFile = cacheDir.appendingPathComponent(tag + ".json")
                if let d = try? Data(contentsOf: entryFile), let e = try? JSONDecoder().decode(Entry.self, from: d),
                   fm.fileExists(atPath: ckpt) {
                    log("reusing \(tag)")
                    entries.append(e)
                    let tok = try VTPTokenizer(checkpointPath: ckpt)
                    if dataCache == nil { dataCache = try VTPData(config: cfg) }
                    grids["\(cfg.preset)-x\(budget)"] = try reconstructionRow(tok, data: dataCache!)
                    continue
                }
                let dataset = try dataCache ?? VTPData(config: cfg)
                dataCache = dataset
                let trainer = try VTPTrainer(config: cfg, data: dataset, text: text)
                var losses: [String: [Double]] = [:]
                let partial = ckpt + ".partial"
                let historyFile = cacheDir.appendingPathComponent(tag + ".history.json")
                if fm.fileExists(atPath: partial) {
                    try VTPCheckpoint.restore(trainer, from: partial)
                    if let d = try? Data(contentsOf: historyFile), let h = try? JSONDecoder().decode([String: [Double]].self, from: d) { losses = h }
                    log("\(tag): resumed at step \(trainer.stepIndex)")
                }
                let t0 = Date()
                var imgs = 0, secs = 0.0
                while !trainer.isFinished {
                    let s = try trainer.step()
                    imgs += s.images; secs += s.seconds
                    for (k, v) in s.metrics where k.hasPrefix("loss") { losses[k, default: []].append(v) }
                    if s.step % 25 == 0 || trainer.isFinished {
                        log(String(format: "%@ step %d/%d loss %.4f (%.0f img/s)", tag, s.step, cfg.train.steps,
                                   s.metrics["loss"] ?? 0, Double(imgs) / max(secs, 1e-9)))
                    }
                    if s.step % cfg.train.checkpointEvery == 0 && !trainer.isFinished {
                        try VTPCheckpoint.save(trainer, to: partial)
                        try JSONEncoder().encode(losses).write(to: historyFile)
                    }
                }
                try VTPCheckpoint.save(trainer, to: ckpt)
                try? fm.removeItem(atPath: partial)
                let tok = VTPTokenizer(model: trainer.model, config: cfg)
                log("\(tag): evaluating")
                let metrics = try evaluator.evaluate(tok, data: dataset, text: text, effnet: fx)
                let e = Entry(variant: variant.rawValue, budget: budget, steps: cfg.train.steps,
                              seconds: Date().timeIntervalSince(t0), imagesPerSecond: Double(imgs) / max(secs, 1e-9),
                              metrics: metrics, losses: losses)
                try JSONEncoder().encode(e).write(to: entryFile)
                entries.append(e)
                grids["\(cfg.preset)-x\(budget)"] = try reconstructionRow(tok, data: dataset)
                log("\(tag): \(metrics.dictionary)")
            }
        }
        try writeFigures(entries, grids: grids, figDir: figDir)
        try markdown(entries).write(to: outputDir.appendingPathComponent("tokenizer.md"), atomically: true, encoding: .utf8)
        return entries
    }

    /// Eight validation images followed by their reconstructions.
    func reconstructionRow(_ tok: VTPTokenizer, data: VTPData) throws -> [ImageBuffer] {
        let imgs = try data.images(Array(data.validation.prefix(8)), size: tok.imageSize)
        return imgs + (try tok.decode(try tok.encode(imgs)))
    }

    func writeFigures(_ entries: [Entry], grids: [String: [ImageBuffer]], figDir: URL) throws {
        for budget in budgets {
            var cells: [ImageBuffer] = []
            var first = true
            for v in VTPVariant.allCases {
                guard let row = grids["\(v.rawValue)-\(data)-\(size)-x\(budget)"] else { continue }
                if first { cells += row.prefix(8); first = false }
                cells += row.suffix(8)
            }
            if !cells.isEmpty {
                try PNGCodec.write(try ImageGrid.make(cells, columns: 8), to: figDir.appendingPathComponent("recon-x\(budget).png").path)
            }
            let es = VTPVariant.allCases.compactMap { v in entries.first { $0.variant == v.rawValue && $0.budget == budget } }
            for term in ["loss_rec", "loss_clip", "loss_dino", "loss_ibot"] {
                let series = es.map { LinePlot.smoothed($0.losses[term] ?? [], window: 10) }
                guard series.contains(where: { !$0.isEmpty }) else { continue }
                try PNGCodec.write(try LinePlot.draw(series, logY: term == "loss_rec"),
                                   to: figDir.appendingPathComponent("\(term)-x\(budget).png").path)
            }
        }
    }

    var provenanceText: String {
        guard let c = provenance["commit"] else { return "" }
        var t = " at commit `\(c)`" + (provenance["dirty"] == "yes" ? " (with uncommitted changes)" : "")
        if let d = provenance["date"] { t += " on \(d)" }
        if let cpu = provenance["cpu"], let n = provenance["cores"] { t += ", \(cpu), \(n) cores" }
        return t
    }

    func markdown(_ entries: [Entry]) -> String {
        func f(_ x: Double?, _ p: Int = 3) -> String { x.map { String(format: "%.\(p)f", $0) } ?? "n/a" }
        var s = """
        # Tokenizer report: VTP vs reconstruction-only and single-objective tokenizers

        Generated by `meshctl report tokenizer` (VTP, METHODS.md §1)\(provenanceText). Presets `<variant>-\(data)-\(size)`,
        seed \(seed), budgets \(budgets.map { "x\($0)" }.joined(separator: ", ")) of the preset's steps; same data order for every variant.
        Reconstruction on \(entries.first?.metrics.evalImages ?? 0) validation images (FD-EffNet at \(evaluator.fdResolution) px:
        not comparable with Inception FID; ± is the std over \(evaluator.fdBootstrap) bootstrap resamples of the image pairs).
        Held-out-template text classification: the CLIP head classifies \(evaluator.heldOutTextImages) test images with prompts
        whose wording no training caption uses (\(CaptionTemplates.heldOut.templates.map { "\"\($0)\"" }.joined(separator: ", "))); it is
        not zero-shot, since the class names themselves appear in the training captions. Linear probes: fitted on
        \(entries.first?.metrics.probeSplit.first ?? evaluator.probeTrain) train images, L2 strength chosen on \(evaluator.probeTune) other train-split
        images, scored on \(evaluator.probeScored) validation images — on the full latent grid the generator consumes
        (tokens × channels), on the token-mean of the latent, and on the CLS. Accuracies: ± is the std of a bootstrap over
        the scored images (\(evaluator.bootstrap) resamples). One training seed per row.

        "train views/s" counts every image through the student encoder per second (plain images plus SSL crops;
        the number of views differs by variant), measured while other jobs shared the two cores: read it as a rough cost.

        | variant | budget | steps | train views/s | rFD ↓ | PSNR ↑ | SSIM ↑ | held-out text ↑ | probe grid ↑ | probe pooled ↑ | probe CLS ↑ |
        |---|---|---|---|---|---|---|---|---|---|---|

        """
        func e(_ x: Estimate?, _ p: Int = 3) -> String { x.map { String(format: "%.\(p)f ± %.\(p)f", $0.value, $0.std) } ?? "n/a" }
        for en in entries {
            let m = en.metrics
            s += "| \(en.variant) | x\(en.budget) | \(en.steps) | \(f(en.imagesPerSecond, 0)) | \(e(m.rFD, 1)) | \(f(m.psnr, 2)) | \(f(m.ssim)) | " +
                 "\(e(m.heldOutText)) | \(e(m.probeGrid)) | \(e(m.probeLatent)) | \(e(m.probeCLS)) |\n"
        }
        s += "\n## Figures\n\n"
        let legend = VTPVariant.allCases.enumerated().map { "\($0.element.rawValue) = \(LinePlot.paletteNames[$0.offset])" }.joined(separator: ", ")
        for b in budgets {
            s += "Budget x\(b): reconstructions (top row: validation images; then one row per variant: \(VTPVariant.allCases.map(\.rawValue).joined(separator: ", ")))\n\n"
            s += "![reconstructions x\(b)](tokenizer/recon-x\(b).png)\n\n"
            s += "Loss curves (10-step moving average; \(legend); reconstruction on a log scale):\n\n"
            for term in ["loss_rec", "loss_clip", "loss_dino", "loss_ibot"] {
                let ys = entries.filter { $0.budget == b }.flatMap { LinePlot.smoothed($0.losses[term] ?? [], window: 10) }
                guard let lo = ys.min(), let hi = ys.max() else { continue }
                s += "- `\(term)` (y from \(f(lo, 4)) to \(f(hi, 4))): ![\(term) x\(b)](tokenizer/\(term)-x\(b).png)\n"
            }
            s += "\n"
        }
        s += "## Does the claim hold here?\n\n" + verdict(entries) + "\n"
        return s
    }

    /// Plain statements computed from the numbers: every comparison is judged against its spread
    /// (`Verdict`: holds / does not hold / not shown at two standard errors).
    func verdict(_ entries: [Entry]) -> String {
        var lines: [String] = []
        func get(_ v: VTPVariant, _ b: Double) -> Entry? { entries.first { $0.variant == v.rawValue && $0.budget == b } }
        func diff(_ a: Estimate, _ b: Estimate) -> String {
            String(format: "%+.3f ± %.3f", a.value - b.value, (a.std * a.std + b.std * b.std).squareRoot())
        }
        guard let lo = budgets.min(), let hi = budgets.max() else { return "" }
        for b in budgets {
            guard let ae = get(.ae, b), let vtp = get(.vtp, b) else { continue }
            let (v, a) = (vtp.metrics, ae.metrics)
            var cls = "no CLS probe"
            if let vc = v.probeCLS, let ac = a.probeCLS { cls = "on the CLS \(diff(vc, ac)) (\(Verdict.judge(vc, minus: ac).rawValue))" }
            lines.append("- x\(b), a semantic latent (vtp's probe above the AE's): on the latent grid vtp − ae = \(diff(v.probeGrid, a.probeGrid)) " +
                         "(\(Verdict.judge(v.probeGrid, minus: a.probeGrid).rawValue)); \(cls).")
            lines.append(String(format: "- x%@, reconstruction: rFD vtp %.1f ± %.1f vs ae %.1f ± %.1f; PSNR vtp %.2f vs ae %.2f.", "\(b)",
                                v.rFD.value, v.rFD.std, a.rFD.value, a.rFD.std, v.psnr, a.psnr))
        }
        if lo != hi {
            for v in VTPVariant.allCases {
                guard let a = get(v, lo), let b = get(v, hi) else { continue }
                lines.append("- \(v.rawValue) from x\(lo) to x\(hi): rFD \(String(format: "%.1f -> %.1f", a.metrics.rFD.value, b.metrics.rFD.value)) " +
                             "(\(Verdict.judge(b.metrics.rFD, minus: a.metrics.rFD, wantPositive: false).rawValue) that it improves); " +
                             "latent-grid probe \(diff(b.metrics.probeGrid, a.metrics.probeGrid)) " +
                             "(\(Verdict.judge(b.metrics.probeGrid, minus: a.metrics.probeGrid).rawValue) that it rises).")
            }
            if let a0 = get(.ae, lo), let a1 = get(.ae, hi), let v0 = get(.vtp, lo), let v1 = get(.vtp, hi) {
                let gain = { (x: Entry, y: Entry) in y.metrics.probeGrid.value - x.metrics.probeGrid.value }
                let se = [a0, a1, v0, v1].map { $0.metrics.probeGrid.std * $0.metrics.probeGrid.std }.reduce(0, +).squareRoot()
                let d = gain(v0, v1) - gain(a0, a1)
                lines.append(String(format: "- Scaling (VTP's understanding grows with compute more than the AE's), on the latent grid the generator consumes: VTP's probe gain %+.3f, the AE's %+.3f, difference %+.3f ± %.3f: %@.",
                                    gain(v0, v1), gain(a0, a1), d, se, Verdict.judge(difference: d, standardError: se).rawValue))
            }
        }
        if let ssl = get(.sslAE, hi)?.metrics.probeCLS, let ae = get(.ae, hi)?.metrics.probeCLS {
            lines.append("- SSL alone (ssl-ae's CLS probe above the AE's at x\(hi)): \(diff(ssl, ae)) " +
                         "(\(Verdict.judge(ssl, minus: ae).rawValue)).")
        }
        for en in entries where en.budget == hi {
            guard let dino = en.losses["loss_dino"], dino.count >= 10,
                  let k = try? VTPPresets.resolve("\(en.variant)-\(data)-\(size)").model.prototypes else { continue }
            let tail = dino.suffix(max(1, dino.count / 10))
            let last = tail.reduce(0, +) / Double(tail.count)
            lines.append(String(format: "- %@ at x%@: DINO loss over the last tenth of training %.3f vs ln K = %.3f (K = %d prototypes; near ln K the heads are close to uniform).",
                                en.variant, "\(hi)", last, log(Double(k)), k))
        }
        lines.append("- Generation quality (gFD of a generator trained on each tokenizer's latents), the paper's headline measure, is not part of this report's plan; it tests only the understanding-vs-reconstruction side of the claim.")
        return lines.joined(separator: "\n")
    }
}

/// Batch facts of a preset size, for report prose.
enum VTPPresetsInfo {
    static func batch(_ size: String) -> Int { (try? VTPPresets.resolve("vtp-fmnist32-\(size)").train.batchSize) ?? 0 }
    static func recBatch(_ size: String) -> Int { (try? VTPPresets.resolve("vtp-fmnist32-\(size)").train.recBatch) ?? 0 }
}
