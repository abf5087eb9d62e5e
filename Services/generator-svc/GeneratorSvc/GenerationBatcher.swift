import ComputeCore
import Datasets
import FlowGen
import Foundation
import MeshKit
import VTP

/// Batching of concurrent `generator.generate` requests inside one worker: requests for the same
/// model, sampler, steps and guidance are sampled in one batch (`BatchPlanner`: at most
/// `maxImages` images, started when nothing of that key runs and the batch is full or its oldest
/// request waited `maxWait`; requests that arrive meanwhile go in the next batch). Every request
/// keeps its own run: progress (with the batch size), previews of its own images, cancellation
/// between steps (a cancelled request leaves the batch, `LatentSampler.retain`; the others go
/// on) and its own reply. Sampling is batch-invariant (per-sample noise, `withBatchInvariance`
/// GEMMs), so a request's images are byte-identical to the same request served alone.
public final class GenerationBatcher: @unchecked Sendable {
    /// What must match for requests to share a batch.
    struct Key: Hashable, Sendable {
        var model: String
        var checkpoint: String
        var steps: Int
        var guidance: Float
        var sampler: String
    }

    /// One request waiting for, or sampled in, a batch.
    struct Member {
        var prompts: [TextFeatures]
        var seeds: [UInt64]
        var context: RunContext
        var previewEvery: Int
        var served: ServedModel
        var settings: SamplingSettings
        var tokenizer: VTPTokenizer
        var continuation: CheckedContinuation<Tensor, Error>
        /// Its rows in the running batch.
        var rowRange: Range<Int> = 0..<0
    }

    public let maxImages: Int
    public let maxWait: Double
    private let lock = NSLock()
    private var planner: BatchPlanner<Key, Int>
    private var members: [Int: Member] = [:]
    private var nextID = 0
    private let start = DispatchTime.now().uptimeNanoseconds

    /// `maxImages` 1 turns batching off (every request is a batch of its own).
    public init(maxImages: Int, maxWait: Double) {
        self.maxImages = max(1, maxImages); self.maxWait = max(0, maxWait)
        planner = BatchPlanner(maxItems: self.maxImages, maxWait: self.maxWait)
    }

    private var now: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// The latents of one image per (prompt, seed), in the tokenizer's scale ([n, T, C]), sampled
    /// in a batch with concurrent requests of the same `model`/`checkpoint`/`settings`.
    /// Throws the run's CANCELLED / DEADLINE_EXCEEDED when it is cancelled while waiting or sampling.
    func sample(model: String, checkpoint: String, served: ServedModel, settings: SamplingSettings,
                prompts: [TextFeatures], seeds: [UInt64], tokenizer: VTPTokenizer, context: RunContext,
                previewEvery: Int, urgent: Bool) async throws -> Tensor {
        let key = Key(model: model, checkpoint: checkpoint, steps: settings.steps, guidance: settings.guidance,
                      sampler: settings.sampler)
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Tensor, Error>) in
            let (batches, wake) = lock.withLock {
                let id = nextID; nextID += 1
                members[id] = Member(prompts: prompts, seeds: seeds, context: context, previewEvery: previewEvery, served: served,
                                     settings: settings, tokenizer: tokenizer, continuation: c)
                return (planner.arrive(id, key: key, items: prompts.count, urgent: urgent, now: now), planner.wakeAt)
            }
            launch(batches)
            if batches.isEmpty, let wake { scheduleTick(at: wake) }
        }
    }

    private func scheduleTick(at t: Double) {
        let delay = max(0, t - now)
        Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9) + 100_000)
            guard let self else { return }
            let (batches, wake) = self.lock.withLock { (self.planner.tick(now: self.now), self.planner.wakeAt) }
            self.launch(batches)
            if batches.isEmpty, let wake, wake > t { self.scheduleTick(at: wake) }
        }
    }

    private func launch(_ batches: [BatchPlanner<Key, Int>.Batch]) {
        for b in batches {
            let list = lock.withLock { b.ids.compactMap { members.removeValue(forKey: $0) } }
            Task.detached { [weak self] in
                await self?.run(list)
                guard let self else { return }
                let (next, wake) = self.lock.withLock { (self.planner.finish(b.key, now: self.now), self.planner.wakeAt) }
                self.launch(next)
                if next.isEmpty, let wake { self.scheduleTick(at: wake) }
            }
        }
    }

    /// Samples one batch to the end (or until every member left).
    private func run(_ list: [Member]) async {
        var active = list.filter { m in
            do { try m.context.checkCancelled(); return true } catch { m.continuation.resume(throwing: error); return false }
        }
        guard let first = active.first else { return }
        Self.renumber(&active)
        let sampler: any LatentSampler
        do {
            sampler = try first.served.sampler(prompts: active.flatMap(\.prompts), seeds: active.flatMap(\.seeds),
                                               settings: first.settings)
        } catch {
            active.forEach { $0.continuation.resume(throwing: error) }
            return
        }
        if active.count > 1 {
            first.context.logger.debug("generate: batch of \(active.reduce(0) { $0 + $1.prompts.count }) images from \(active.count) requests")
        }
        let t0 = Date()
        while !sampler.isFinished {
            // Cancelled members leave; the others' rows continue unchanged.
            var left = false
            active = active.filter { m in
                do { try m.context.checkCancelled(); return true } catch { m.continuation.resume(throwing: error); left = true; return false }
            }
            if active.isEmpty { return }
            if left { sampler.retain(active.flatMap { Array($0.rowRange) }); Self.renumber(&active) }
            _ = await ComputeGate.shared.run { sampler.next() }
            let images = active.reduce(0) { $0 + $1.prompts.count }
            let elapsed = max(Date().timeIntervalSince(t0), 1e-9)
            for m in active {
                let n = m.prompts.count, offset = m.rowRange.lowerBound
                await m.context.progress(step: sampler.step, total: sampler.totalSteps,
                                         metrics: ["t": Double(sampler.t), "batch_images": Double(images)],
                                         itemsPerSecond: Double(n * sampler.step) / elapsed)
                if m.previewEvery > 0 && sampler.step % m.previewEvery == 0 && !sampler.isFinished {
                    let rows = sampler.previewLatents.slice(axis: 0, offset, offset + min(8, n)).copy()
                    if let imgs = try? await ComputeGate.shared.run({ try m.tokenizer.decode(rows) }),
                       let grid = try? ImageGrid.make(imgs, columns: min(8, imgs.count)), let png = try? PNGCodec.encode(grid) {
                        await m.context.preview(step: sampler.step, png: Data(png),
                                                caption: "x0 estimate at step \(sampler.step)/\(sampler.totalSteps)")
                    }
                }
            }
            sweepWaiting()
            await Task.yield()
        }
        let latents = sampler.latents                                        // [B, T, C]
        for m in active {
            do {
                try m.context.checkCancelled()
                m.continuation.resume(returning: latents.slice(axis: 0, m.rowRange.lowerBound, m.rowRange.upperBound).copy())
            } catch { m.continuation.resume(throwing: error) }
        }
    }

    /// Answers waiting requests that were cancelled (or ran out of time) while a batch ran.
    private func sweepWaiting() {
        let gone: [(Member, Error)] = lock.withLock {
            var out: [(Member, Error)] = []
            for (id, m) in members {
                do { try m.context.checkCancelled() } catch {
                    if planner.withdraw(id) { members[id] = nil; out.append((m, error)) }
                }
            }
            return out
        }
        for (m, e) in gone { m.continuation.resume(throwing: e) }
    }

    private static func renumber(_ active: inout [Member]) {
        var offset = 0
        for i in active.indices {
            let n = active[i].prompts.count
            active[i].rowRange = offset..<(offset + n)
            offset += n
        }
    }
}
