import ComputeCore
import Datasets
import Foundation

/// What one tokenizer training step reports (VTP, RecTok): every loss term, schedules and throughput.
public struct VTPStepStats: Sendable {
    public var step: Int
    public var metrics: [String: Double]
    public var images: Int
    public var seconds: Double
    public var imagesPerSecond: Double { seconds > 0 ? Double(images) / seconds : 0 }
    public init(step: Int, metrics: [String: Double], images: Int, seconds: Double) {
        self.step = step; self.metrics = metrics; self.images = images; self.seconds = seconds
    }
}

/// The VTP trainer as a step iterator (METHODS.md §1): callers run `step()` until `isFinished`,
/// and may report progress, check cancellation or save a checkpoint between steps.
/// Every step's randomness derives from (seed, step), so a resumed run continues identically.
public final class VTPTrainer {
    public let config: VTPConfig
    public let model: VTPModel
    public let optimizer: VTPOptimizer
    public let data: VTPData
    public let text: TextEmbeddingCache
    public internal(set) var stepIndex = 0
    public internal(set) var dinoCenter: [Float]
    public internal(set) var ibotCenter: [Float]
    let sampler: BatchSampler
    let multiCrop: MultiCropAugmentation

    public init(config: VTPConfig, data: VTPData? = nil, text: TextEmbeddingCache? = nil) throws {
        try config.validate()
        self.config = config
        self.data = try data ?? VTPData(config: config)
        self.text = try text ?? TextEmbeddingCache.miniLM()
        model = VTPModel(config.model, lossConfig: config.loss, seed: config.train.seed)
        model.dinoHead.lastLayer.g.requiresGrad = false
        let named = model.namedParameters().filter { !$0.0.hasPrefix("teacher.") && $0.1.requiresGrad }
        optimizer = VTPOptimizer(named, lr: config.train.lr, weightDecay: config.train.weightDecay)
        dinoCenter = Array(repeating: 0, count: config.model.prototypes)
        ibotCenter = dinoCenter
        sampler = try BatchSampler(count: self.data.train.count, batchSize: config.train.batchSize,
                                   seed: config.train.seed, shuffle: true, dropLast: true)
        multiCrop = try MultiCropAugmentation(globalSize: config.model.imageSize, localSize: config.train.localSize,
                                              globalCount: 2, localCount: config.train.localCrops,
                                              globalScale: config.train.globalCropScale, localScale: config.train.localCropScale, jitter: nil)
    }

    public var isFinished: Bool { stepIndex >= config.train.steps }

    /// Learning rate at `step`: linear warm-up then cosine to `minLR`.
    public func lr(at step: Int) -> Float {
        let t = config.train
        if step < t.warmupSteps { return t.lr * Float(step + 1) / Float(max(1, t.warmupSteps)) }
        return CosineSchedule.cosine(from: t.lr, to: t.minLR, step: step - t.warmupSteps, total: max(1, t.steps - t.warmupSteps))
    }
    /// Teacher temperature: linear warm-up from start to end over the configured fraction.
    public func teacherTemp(at step: Int) -> Float {
        let l = config.loss
        let w = max(1, Int(Float(config.train.steps) * l.teacherTempWarmupFraction))
        return step >= w ? l.teacherTempEnd : l.teacherTempStart + (l.teacherTempEnd - l.teacherTempStart) * Float(step) / Float(w)
    }
    /// EMA momentum: cosine from `emaMomentumStart` to `emaMomentumEnd` (DINOv2).
    public func emaMomentum(at step: Int) -> Float {
        let l = config.loss
        return CosineSchedule.cosine(from: l.emaMomentumStart, to: l.emaMomentumEnd, step: step, total: max(1, config.train.steps))
    }

    /// The loss terms for the batch of `step` (no optimiser update). Returns the weighted total
    /// and each term (unweighted), plus teacher logits for the centre updates.
    public func losses(step: Int) throws -> (total: Tensor, terms: [String: Tensor], images: Int,
                                              teacherCLS: [Tensor], teacherPatches: [Tensor]) {
        let c = config, mc = c.model, tc = c.train, lc = c.loss
        var srng = SeededRNG(seed: SeededRNG.derive(tc.seed, UInt64(step) &+ 1))
        let indices = sampler.batch(step: step).map { data.train[$0] }
        let plainCount = c.variant.usesCLIP ? tc.batchSize : tc.recBatch
        let images = try data.images(Array(indices.prefix(max(plainCount, tc.sslBatch))), size: mc.imageSize)
        var terms: [String: Tensor] = [:]
        var total: Tensor?
        func add(_ name: String, _ t: Tensor, _ w: Float) { terms[name] = t; total = total.map { $0 + t * w } ?? t * w }

        // Plain view: one encoder pass serves CLIP (all B) and reconstruction (the first recBatch).
        let plain = try Patchify.patches(Array(images.prefix(plainCount)), patch: mc.patchSize, channels: mc.channels)
        let tokens = model.encoder(plain, grid: mc.grid)
        if c.variant.usesCLIP {
            let caps = data.captions(Array(indices.prefix(plainCount)), rng: &srng)
            let cls = tokens.slice(axis: 1, 0, 1).reshaped([plainCount, mc.width])
            add("clip", VTPLosses.clip(image: model.clip.image(cls), text: model.clip.text(text.tensor(caps)),
                                       logitScale: model.clip.logitScale, maxScale: lc.logitScaleMax), lc.clipWeight)
        }
        let recTokens = tc.recBatch == plainCount ? tokens : tokens.slice(axis: 0, 0, tc.recBatch)
        let recon = model.decode(model.latents(fromTokens: recTokens))
        let target = tc.recBatch == plainCount ? plain : plain.slice(axis: 0, 0, tc.recBatch)
        add("rec", VTPLosses.reconstruction(recon, target, kind: lc.recKind), lc.recWeight)

        var teacherCLS: [Tensor] = [], teacherPatches: [Tensor] = []
        var seen = plainCount
        if c.variant.usesSSL {
            let S = tc.sslBatch, T = mc.grid * mc.grid
            var globals: [[ImageBuffer]] = [[], []], locals: [[ImageBuffer]] = Array(repeating: [], count: tc.localCrops)
            for img in images.prefix(S) {
                let v = multiCrop.views(img, rng: &srng)
                for g in 0..<2 { globals[g].append(v.global[g]) }
                for l in 0..<tc.localCrops { locals[l].append(v.local[l]) }
            }
            seen += S * (2 + tc.localCrops)
            let tT = teacherTemp(at: step)
            var studentCLS: [Tensor] = [], ibot: Tensor?, ibotViews = 0
            for g in 0..<2 {
                let x = try Patchify.patches(globals[g], patch: mc.patchSize, channels: mc.channels)
                // Teacher: unmasked global crop, CLS and patch prototype scores (no gradient).
                let (tc0, tp0) = withNoGrad { () -> (Tensor, Tensor) in
                    let t = model.teacherEncoder(x, grid: mc.grid)
                    let cls = model.teacherHead(t.slice(axis: 1, 0, 1).reshaped([S, mc.width]))
                    let pat = model.teacherHead(t.slice(axis: 1, 1, T + 1).reshaped([S * T, mc.width]))
                    return (cls.detached(), pat.detached())
                }
                teacherCLS.append(tc0); teacherPatches.append(tp0)
                // Student: iBOT-masked global crop (masked patches replaced by the mask token).
                var mask = [Float](repeating: 0, count: S * T)
                for b in 0..<S where srng.uniform() < lc.maskedImageFraction {
                    let ratio = srng.uniform(lc.maskRatioMin, lc.maskRatioMax)
                    let n = max(1, Int((ratio * Float(T)).rounded()))
                    var order = Array(0..<T); order.shuffle(using: &srng)
                    for i in order.prefix(n) { mask[b * T + i] = 1 }
                }
                let s = model.encoder(x, grid: mc.grid, mask: mask)
                studentCLS.append(model.dinoHead(s.slice(axis: 1, 0, 1).reshaped([S, mc.width])))
                let masked = mask.indices.filter { mask[$0] == 1 }
                if !masked.isEmpty {
                    let sp = model.dinoHead(s.slice(axis: 1, 1, T + 1).reshaped([S * T, mc.width]).indexSelect(axis: 0, masked))
                    let tp = VTPLosses.teacherProbs(tp0.indexSelect(axis: 0, masked), center: ibotCenter, temperature: tT)
                    let l = VTPLosses.distillation(student: sp, teacher: tp, studentTemp: lc.studentTemp)
                    ibot = ibot.map { $0 + l } ?? l
                    ibotViews += 1
                }
            }
            let lg = mc.grid * tc.localSize / mc.imageSize
            for l in 0..<tc.localCrops {
                let x = try Patchify.patches(locals[l], patch: mc.patchSize, channels: mc.channels)
                let s = model.encoder(x, grid: lg)
                studentCLS.append(model.dinoHead(s.slice(axis: 1, 0, 1).reshaped([S, mc.width])))
            }
            let teacherProbs = teacherCLS.map { VTPLosses.teacherProbs($0, center: dinoCenter, temperature: tT) }
            add("dino", VTPLosses.dino(student: studentCLS, teacher: teacherProbs, studentTemp: lc.studentTemp), lc.dinoWeight)
            if let ibot { add("ibot", ibot / Float(ibotViews), lc.ibotWeight) }
        }
        return (total!, terms, seen, teacherCLS, teacherPatches)
    }

    /// Runs one optimisation step (losses, backward, clip, AdamW, EMA teacher, centres).
    @discardableResult
    public func step() throws -> VTPStepStats {
        precondition(!isFinished, "VTPTrainer.step: already at step \(stepIndex) of \(config.train.steps)")
        let start = Date()
        let s = stepIndex
        model.zeroGrad()
        let out = try losses(step: s)
        out.total.backward()
        let params = optimizer.params
        let gnorm = Gradients.clipNorm(params, maxNorm: config.train.gradClip)
        optimizer.lr = lr(at: s)
        optimizer.step()
        let m = emaMomentum(at: s)
        // Collapse diagnostics of the DINO targets this step used (before the centre moves).
        let collapse = config.variant.usesSSL
            ? VTPLosses.collapseStats(out.teacherCLS, center: dinoCenter, temperature: teacherTemp(at: s)) : nil
        if config.variant.usesSSL {
            model.updateTeacher(momentum: m)
            dinoCenter = VTPLosses.updatedCenter(dinoCenter, teacherLogits: out.teacherCLS, momentum: config.loss.centerMomentum)
            ibotCenter = VTPLosses.updatedCenter(ibotCenter, teacherLogits: out.teacherPatches, momentum: config.loss.centerMomentum)
        }
        stepIndex += 1
        var metrics: [String: Double] = ["loss": Double(out.total.item), "lr": Double(optimizer.lr),
                                         "grad_norm": Double(gnorm)]
        for (k, v) in out.terms { metrics["loss_" + k] = Double(v.item) }
        if config.variant.usesCLIP { metrics["logit_scale"] = Double(expf(model.clip.logitScale.item)) }
        if config.variant.usesSSL { metrics["teacher_temp"] = Double(teacherTemp(at: s)); metrics["ema_momentum"] = Double(m) }
        if let collapse {
            metrics["dino_teacher_entropy"] = collapse.sampleEntropy
            metrics["dino_batch_entropy"] = collapse.batchEntropy
        }
        return VTPStepStats(step: stepIndex, metrics: metrics, images: out.images, seconds: Date().timeIntervalSince(start))
    }
}
