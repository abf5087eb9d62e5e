import ComputeCore
import Datasets
import FlowGen
import Foundation
import MeshKit
import VTP

/// Batching of concurrent `generator.generate` requests inside one worker: requests for the same
/// model, sampler, steps and guidance are sampled in one batch (`BatchPlanner`: at most
/// `maxImages` images, started when nothing of that key runs and the batch is full or its oldest
/// request waited `maxWait`; requests that arrive while it runs join it at the next step boundary
/// when it has room — continuous batching: every row keeps its own step, `SamplerRows` — and
/// finished requests leave it as soon as their last step is done). Every request
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
        var tokenizer: any LatentTokenizer
        var continuation: CheckedContinuation<Tensor, Error>
        /// Its rows in the running batch.
        var rowRange: Range<Int> = 0..<0
        /// When its rows entered the batch (its throughput counts from here).
        var joined = Date()
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
                prompts: [TextFeatures], seeds: [UInt64], tokenizer: any LatentTokenizer, context: RunContext,
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
                await self?.run(list, key: b.key)
                guard let self else { return }
                let (next, wake) = self.lock.withLock { (self.planner.finish(b.key, now: self.now), self.planner.wakeAt) }
                self.launch(next)
                if next.isEmpty, let wake { self.scheduleTick(at: wake) }
            }
        }
    }

    /// Samples one batch until every member finished or left. At every step boundary cancelled
    /// members leave, waiting requests of the same key join while the batch has room
    /// (`BatchPlanner.join`; they start at step 0 on the same grid), and finished members are
    /// answered and leave; the other rows go on unchanged.
    private func run(_ list: [Member], key: Key) async {
        var pending = list, active: [Member] = []
        var sampler: (any LatentSampler)?
        while true {
            // Cancelled members leave.
            let before = active.count
            active = active.filter { m in
                do { try m.context.checkCancelled(); return true } catch { m.continuation.resume(throwing: error); return false }
            }
            if active.count < before { keep(&active, in: &sampler) }
            // Waiting requests of this key join at this step boundary.
            let room = maxImages - (active + pending).reduce(0) { $0 + $1.prompts.count }
            if room > 0 {
                pending += lock.withLock { planner.join(key, room: room).compactMap { members.removeValue(forKey: $0) } }
            }
            enter(pending, into: &active, sampler: &sampler)
            pending = []
            guard let current = sampler, !active.isEmpty else { return }
            _ = await ComputeGate.shared.run { current.next() }
            let images = active.reduce(0) { $0 + $1.prompts.count }
            var done: [Member] = []
            for m in active {
                let n = m.prompts.count, offset = m.rowRange.lowerBound
                let step = current.rows.steps[offset], total = current.totalSteps
                let elapsed = max(Date().timeIntervalSince(m.joined), 1e-9)
                await m.context.progress(step: step, total: total,
                                         metrics: ["t": Double(current.grid[step]), "batch_images": Double(images)],
                                         itemsPerSecond: Double(n * step) / elapsed)
                if step == total { done.append(m); continue }
                if m.previewEvery > 0 && step % m.previewEvery == 0 {
                    let rows = current.previewLatents.slice(axis: 0, offset, offset + min(8, n)).copy()
                    if let imgs = try? await ComputeGate.shared.run({ try m.tokenizer.decode(rows) }),
                       let grid = try? ImageGrid.make(imgs, columns: min(8, imgs.count)), let png = try? PNGCodec.encode(grid) {
                        await m.context.preview(step: step, png: Data(png), caption: "x0 estimate at step \(step)/\(total)")
                    }
                }
            }
            // Finished members are answered and leave the batch.
            if !done.isEmpty {
                let latents = current.latents                                // [B, T, C]
                for m in done {
                    do {
                        try m.context.checkCancelled()
                        m.continuation.resume(returning: latents.slice(axis: 0, m.rowRange.lowerBound, m.rowRange.upperBound).copy())
                    } catch { m.continuation.resume(throwing: error) }
                }
                let finished = Set(done.map(\.rowRange.lowerBound))
                active.removeAll { finished.contains($0.rowRange.lowerBound) }
                keep(&active, in: &sampler)
            }
            sweepWaiting()
            await Task.yield()
        }
    }

    /// The sampler keeps only `active`'s rows (none left: no sampler), renumbered in order.
    private func keep(_ active: inout [Member], in sampler: inout (any LatentSampler)?) {
        guard !active.isEmpty else { sampler = nil; return }
        sampler?.retain(active.flatMap { Array($0.rowRange) })
        Self.renumber(&active)
    }

    /// `entering` members (not cancelled) get rows at step 0: appended to the running sampler, or
    /// a new sampler when none runs. A member whose rows cannot be added is answered with the error.
    private func enter(_ entering: [Member], into active: inout [Member], sampler: inout (any LatentSampler)?) {
        var list = entering.filter { m in
            do { try m.context.checkCancelled(); return true } catch { m.continuation.resume(throwing: error); return false }
        }
        guard !list.isEmpty else { return }
        let now = Date()
        for i in list.indices { list[i].joined = now }
        if let sampler {
            for var m in list {
                do {
                    try sampler.append(prompts: m.prompts, seeds: m.seeds)
                    let offset = sampler.rows.count - m.prompts.count
                    m.rowRange = offset..<(offset + m.prompts.count)
                    active.append(m)
                } catch { m.continuation.resume(throwing: error) }
            }
            list[0].context.logger.debug("generate: \(list.count) request(s) joined a running batch (now \(sampler.rows.count) images)")
            return
        }
        Self.renumber(&list)
        do {
            sampler = try list[0].served.sampler(prompts: list.flatMap(\.prompts), seeds: list.flatMap(\.seeds),
                                                 settings: list[0].settings)
            active = list
            if list.count > 1 {
                list[0].context.logger.debug("generate: batch of \(list.reduce(0) { $0 + $1.prompts.count }) images from \(list.count) requests")
            }
        } catch {
            list.forEach { $0.continuation.resume(throwing: error) }
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
