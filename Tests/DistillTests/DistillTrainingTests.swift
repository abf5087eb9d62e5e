import ComputeCore
import FlowGen
import XCTest
@testable import Distill

/// Tiny students learn, sample in 1-4 steps, checkpoint and resume; bad configs are refused.
final class DistillTrainingTests: XCTestCase {
    typealias S = DistillTestSupport

    /// Mean squared distance of the student's `steps`-step samples to the guided teacher's 16-step Euler samples.
    func distanceToTeacher(_ trainer: DistillTrainer, prompts: [TextFeatures], steps: Int) throws -> Float {
        let seeds = (0..<prompts.count).map { UInt64(500 + $0) }
        let norm = LatentNormalizer.identity(channels: trainer.student.net.config.latentChannels)
        let ref = try FlowSampler(model: trainer.teacher.model, normalizer: norm,
                                  request: SampleRequest(prompts: prompts, seeds: seeds, steps: 16, guidance: trainer.config.guidance))
        ref.run()
        let s = try StudentSampler(student: trainer.student, normalizer: norm, prompts: prompts, seeds: seeds, steps: steps)
        s.run()
        return Tensor.mseLoss(s.latents, ref.latents).item
    }

    func testTinySCMStudentMovesTowardTheTeacherInOneStep() throws {
        var cfg = try S.config(.scm, steps: 40)
        cfg.guidance = 2
        let trainer = try DistillTrainer(config: cfg, teacher: try S.teacher())
        let data = try S.data(8, model: trainer.student.net.config)
        let before = try distanceToTeacher(trainer, prompts: data.texts, steps: 1)
        var stats: [DistillStepStats] = []
        for s in trainer.steps(data) { stats.append(s) }
        XCTAssertEqual(stats.count, 40)
        XCTAssertTrue(stats.allSatisfy { $0.loss.isFinite && $0.gradNorm.isFinite })
        XCTAssertEqual(stats.last!.schedule, 1)                   // tangent warm-up done (10 steps)
        let after = try distanceToTeacher(trainer, prompts: data.texts, steps: 1)
        XCTAssertLessThan(after, 0.8 * before, "1-step distance to the teacher: \(before) -> \(after)")
    }

    func testTinyMeanFlowStudentLossFalls() throws {
        let trainer = try DistillTrainer(config: try S.config(.meanflow, steps: 40), teacher: try S.teacher())
        let data = try S.data(8, model: trainer.student.net.config)
        func evalLoss() -> Float {
            var rng = RNG(seed: 77)
            let (x0, prompts) = try! data.batch(step: 0, batchSize: 8, seed: 1, rng: &rng)
            let text = TextContext(prompts, tokens: 4, dim: 8)
            return withNoGrad { trainer.meanFlowLoss(x0: x0, text: text, rng: &rng).0.item }
        }
        let before = evalLoss()
        let before1 = try distanceToTeacher(trainer, prompts: data.texts, steps: 1)
        for _ in trainer.steps(data) {}
        let after = evalLoss(), after1 = try distanceToTeacher(trainer, prompts: data.texts, steps: 1)
        XCTAssertLessThan(after, 0.7 * before, "MeanFlow loss \(before) -> \(after)")
        XCTAssertLessThan(after1, before1, "1-step distance \(before1) -> \(after1)")
    }

    func testSamplerStepsAndBatchIndependence() throws {
        for method in DistillMethod.allCases {
            let trainer = try DistillTrainer(config: try S.config(method), teacher: try S.teacher())
            let norm = LatentNormalizer(mean: [0.1, -0.2], std: [1.5, 0.5])
            let p = [S.prompt(seed: 1), S.prompt(seed: 2), S.prompt(seed: 3)]
            for steps in 1...4 {
                let s = try StudentSampler(student: trainer.student, normalizer: norm, prompts: p, seeds: [1, 2, 3], steps: steps)
                var n = 0
                while s.next() {
                    n += 1
                    XCTAssertEqual(s.step, n)
                    XCTAssertTrue(s.previewLatents.array.allSatisfy(\.isFinite))
                    if !s.isFinished { XCTAssertGreaterThan(s.t, 0) }
                }
                XCTAssertEqual(n, steps)
                XCTAssertEqual(s.t, 0)
                XCTAssertEqual(s.previewLatents.array, s.latents.array, "finished: the preview is the result")
                // Bit-identical whatever else is in the batch (and wherever the image sits in it).
                let one = try StudentSampler(student: trainer.student, normalizer: norm, prompts: [p[1]], seeds: [2], steps: steps)
                one.run()
                XCTAssertEqual(one.latents.array, s.latents.indexSelect(axis: 0, [1]).array, "\(method) \(steps) steps")
                let swapped = try StudentSampler(student: trainer.student, normalizer: norm, prompts: [p[2], p[1]], seeds: [3, 2],
                                                 steps: steps)
                swapped.run()
                XCTAssertEqual(swapped.latents.indexSelect(axis: 0, [1]).array, one.latents.array)
            }
        }
        // A request joining a running student batch at a step boundary gets its alone bits.
        for method in DistillMethod.allCases {
            let trainer = try DistillTrainer(config: try S.config(method), teacher: try S.teacher())
            let norm = LatentNormalizer(mean: [0.1, -0.2], std: [1.5, 0.5])
            let p = [S.prompt(seed: 1), S.prompt(seed: 2), S.prompt(seed: 3)]
            let s = try StudentSampler(student: trainer.student, normalizer: norm, prompts: [p[0], p[2]], seeds: [1, 3], steps: 3)
            s.next()
            try s.append(prompts: [p[1]], seeds: [2])
            XCTAssertEqual(s.rows.steps, [1, 1, 0])
            s.run()
            XCTAssertEqual(s.rows.steps, [3, 3, 3])
            let one = try StudentSampler(student: trainer.student, normalizer: norm, prompts: [p[1]], seeds: [2], steps: 3)
            one.run()
            XCTAssertEqual(s.latents.indexSelect(axis: 0, [2]).array, one.latents.array, "\(method): joined after one step")
            let two = try StudentSampler(student: trainer.student, normalizer: norm, prompts: [p[0], p[2]], seeds: [1, 3], steps: 3)
            two.run()
            XCTAssertEqual(s.latents.indexSelect(axis: 0, [0, 1]).array, two.latents.array, "\(method): the first rows are unchanged")
        }
        let trainer = try DistillTrainer(config: try S.config(.scm), teacher: try S.teacher())
        let norm = LatentNormalizer.identity(channels: 2)
        let p = [S.prompt(seed: 1), S.prompt(seed: 2)]
        for bad in [0, 5] {
            XCTAssertThrowsError(try StudentSampler(student: trainer.student, normalizer: norm, prompts: p, seeds: [1, 2], steps: bad)) {
                XCTAssertTrue("\($0)".contains("steps"), "\($0)")
            }
        }
    }

    func testInvalidConfigsNameTheField() throws {
        XCTAssertThrowsError(try DistillPresets.resolve("distill-xs", method: .scm, timeInputScale: 10)) {
            XCTAssertEqual($0 as? MethodError, .invalidConfig(field: "time_input_scale", message: "must be 1 or 1000, got 10.0"))
        }
        XCTAssertNoThrow(try DistillPresets.resolve("distill-xs", method: .meanflow, timeInputScale: 1000))
        XCTAssertThrowsError(try DistillPresets.resolve("nope", method: .scm)) { XCTAssertTrue("\($0)".contains("distill-xs")) }
        var c = try S.config(.scm)
        for bad in [0, 5] {
            c.sampleSteps = bad
            XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("sample_steps")) }
        }
        XCTAssertThrowsError(try S.config(.scm, steps: 0)) { XCTAssertTrue("\($0)".contains("steps")) }
    }

    func testCheckpointRoundTripAndExactResume() throws {
        let cfg = try S.config(.meanflow, steps: 4, scale: 1000)
        let teacher = try S.teacher(scale: 1000)
        let data = try S.data(8, model: teacher.config)
        let norm = LatentNormalizer(mean: [0.1, -0.2], std: [2, 0.5])
        let a = try DistillTrainer(config: cfg, teacher: teacher)
        for _ in 0..<2 { _ = try a.step(data) }
        let path = S.tempPath("mf.safetensors")
        try DistillCheckpoint.save(a, normalizer: norm, metadata: ["teacher": "t1"], to: path)
        for _ in 0..<2 { _ = try a.step(data) }

        let b = try DistillTrainer(config: cfg, teacher: teacher)
        try DistillCheckpoint.restore(b, from: path)
        XCTAssertEqual(b.stepIndex, 2)
        for _ in b.steps(data) {}
        for (pa, pb) in zip(a.student.parameters(), b.student.parameters()) { XCTAssertEqual(pa.array, pb.array) }

        let loaded = try DistillCheckpoint.load(from: path)
        XCTAssertEqual(loaded.metadata["teacher"], "t1")
        XCTAssertEqual(loaded.config, cfg)
        XCTAssertEqual(loaded.normalizer, norm)
        XCTAssertEqual(loaded.student.net.timeEmbed.inputScale, 1000)
        // A checkpoint of another method does not restore.
        let scm = try DistillTrainer(config: try S.config(.scm, scale: 1000), teacher: teacher)
        XCTAssertThrowsError(try DistillCheckpoint.restore(scm, from: path))
    }
}
