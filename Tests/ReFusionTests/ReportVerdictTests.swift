import XCTest
@testable import ReFusion

/// The decode report's verdict rules on hand-made numbers: each claim sentence follows from
/// the figures (2-SE accuracy bands, speed ratios with a 20 % noise band, tokens per forward).
final class ReportVerdictTests: XCTestCase {
    static let ar = "AR (KV cache)", mdm = "MDM (LLaDA-style)", rf = "ReFusion", dk = "ReFusion, draft-keeping II-b"
    static let rfAR = "ReFusion model, AR decoding"

    /// A result of `tokens` generated tokens at `tps` tokens/s and `tpf` tokens per forward.
    func result(_ name: String, _ task: String, exact: Double = 0, tps: Double, tpf: Double, tokens: Int = 1000,
                unverified: Int = 0) -> EvaluationResult {
        EvaluationResult(decoder: name, task: task, examples: 200, exactMatch: exact, judgeBitsPerChar: task == "text" ? 3 : 0,
                         distinct4: task == "text" ? 0.5 : 0, generatedTokens: tokens, forwards: Int(Double(tokens) / tpf),
                         seconds: Double(tokens) / tps, unverifiedCommits: unverified)
    }

    /// A hand-made outcome: arithmetic exact match and tokens/s per decoder (text: `textSpeeds`).
    func outcome(exact: [String: Double], speeds: [String: (tps: Double, tpf: Double)],
                 textSpeeds: [String: (tps: Double, tpf: Double)]) -> DecodeExperiment.Outcome {
        let plan = DecodeExperiment.Plan.named("quick")!
        let task = ArithmeticTask(maxDigits: 2, seed: 1)
        let cookies = ["A day for firm decisions!", "Be careful what you wish for."].map { FortuneCorpus.example($0) }
        let data = DecodeDataset(arithmetic: task, arithmeticTrain: [], arithmeticTest: task.testExamples(count: 200),
                                 textTrain: cookies, textTest: cookies)
        let model = TransformerLM(TransformerConfig.preset("tiny")!, seed: 1)
        let models = ["ar", "mdm", "refusion", DecodeExperiment.paperLabelsModel].map {
            DecodeExperiment.TrainedModel(name: $0, model: model, steps: 1, finalLoss: 1, seconds: 1)
        }
        var main: [EvaluationResult] = []
        for name in [Self.ar, Self.mdm, Self.rf, Self.dk, Self.rfAR, DecodeExperiment.paperLabelsARDecoding] {
            let s = speeds[name] ?? (1000, 1), t = textSpeeds[name] ?? (1000, 1)
            main.append(result(name, "arithmetic", exact: exact[name] ?? 0, tps: s.tps, tpf: s.tpf,
                               unverified: name == Self.dk ? 40 : 0))
            main.append(result(name, "text", tps: t.tps, tpf: t.tpf))
        }
        return DecodeExperiment.Outcome(plan: plan, models: models, main: main, slotSweep: [], thresholdSweep: [],
                                        mdmThresholdSweep: [], textSamples: [:], data: data, trainingSeconds: 1,
                                        evaluationSeconds: 1)
    }

    /// The claim line starting with `prefix`.
    func line(_ md: String, _ prefix: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard let l = md.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else {
            XCTFail("no line starting with \(prefix)", file: file, line: line)
            return ""
        }
        return String(l)
    }

    func testClaimsHoldWhenTheNumbersSaySo() {
        let o = outcome(exact: [Self.ar: 0.95, Self.mdm: 0.30, Self.rf: 0.60, Self.dk: 0.55, Self.rfAR: 0.80,
                                DecodeExperiment.paperLabelsARDecoding: 0.50],
                        speeds: [Self.ar: (1000, 1), Self.mdm: (200, 3), Self.rf: (2500, 2.5)],
                        textSpeeds: [Self.ar: (1000, 1), Self.mdm: (500, 1), Self.rf: (1000, 1.5)])
        let md = DecodeReportRenderer.markdown(o)
        // +30 points; 2 SE = 2 sqrt((0.6*0.4 + 0.3*0.7) / 200) = 9.5 points
        XCTAssertTrue(line(md, "- Accuracy, ReFusion vs masked diffusion").hasSuffix("(+30.0 points; 2 SE = 9.5 points on 200 problems) — **holds**."))
        XCTAssertTrue(line(md, "- Speed vs masked diffusion, arithmetic").contains("= 12.50x — **holds** in direction, smaller than the paper's factor"))
        XCTAssertTrue(line(md, "- Speed vs AR, arithmetic").hasSuffix("= 2.50x, 2.50 vs 1.00 tokens per forward — **holds**."))
        // text: 1.5 vs 1.0 tokens per forward at equal tokens/s: fewer forwards, time within noise
        XCTAssertTrue(line(md, "- Speed vs AR, text").contains("**holds for forwards, not shown for time**"))
        XCTAssertTrue(line(md, "- Speed vs masked diffusion, text").contains("= 2.00x — **holds** in direction"))
        XCTAssertTrue(line(md, "- Accuracy vs AR").hasSuffix("(AR ahead by 35.0 points) — same direction as the paper, a larger gap than its 8.1 points."))
        // 80 % vs 50 %: 2 SE = 2 sqrt((0.16 + 0.25) / 200) = 9.1 points
        XCTAssertTrue(line(md, "- Does ReFusion training keep AR ability?").hasSuffix("**help** (+30.0 points, 2 SE = 9.1)."))
        XCTAssertTrue(line(md, "- Decoder variants").contains("with 40 unverified commits out of 1000 tokens — faithful ahead by 5.0 points."))
        XCTAssertTrue(md.contains("| \(Self.dk) | 55.0 % |"))
        XCTAssertTrue(md.contains("| 40 of 2000 | 0 |"), "the draft-keeping row counts its unverified commits over both tasks")
    }

    /// Text quality: repeats-charged bits decide, but repetitive text (distinct 4-grams below 80 %
    /// of the held-out text's) never counts as closer to the corpus.
    func testTextVerdictNeverRewardsRepetitiveText() {
        func text(_ charged: Double, _ distinct: Double) -> EvaluationResult {
            var r = result("x", "text", tps: 1000, tpf: 1)
            r.chargedBitsPerChar = charged; r.distinct4 = distinct
            return r
        }
        func verdict(_ rf: EvaluationResult, _ mdm: EvaluationResult) -> String {
            DecodeReportRenderer.textVerdict(rf, mdm, referenceCharged: 2.8, referenceDistinct: 0.6)
        }
        XCTAssertEqual(verdict(text(3.0, 0.55), text(3.5, 0.5)),
                       "- Text quality, ReFusion vs MDM: judge 3.00 vs 3.50 bits/char with repeats charged (held-out cookies: 2.80), "
                       + "distinct 4-grams 0.55 vs 0.50 (held-out cookies: 0.60) — ReFusion's text is closer to the corpus.\n")
        XCTAssertTrue(verdict(text(3.5, 0.55), text(3.0, 0.5)).hasSuffix("— MDM's text is closer to the corpus.\n"))
        // ReFusion scores better bits but repeats itself (0.30 < 0.8 * 0.60): MDM is the better text
        XCTAssertTrue(verdict(text(2.5, 0.30), text(3.0, 0.5)).hasSuffix(
            "ReFusion's text is repetitive (distinct 4-grams below 80 % of real text's); MDM's text is closer to the corpus.\n"))
        XCTAssertTrue(verdict(text(3.5, 0.50), text(2.0, 0.2)).hasSuffix(
            "MDM's text is repetitive (distinct 4-grams below 80 % of real text's); ReFusion's text is closer to the corpus.\n"))
        XCTAssertTrue(verdict(text(2.5, 0.3), text(2.0, 0.2)).hasSuffix("both decoders' text is repetitive (distinct 4-grams below 80 % of real text's): **not shown**.\n"))
        // exactly at the floor (0.48 = 0.8 * 0.60) counts as not repetitive
        XCTAssertTrue(verdict(text(3.0, 0.48), text(3.5, 0.5)).hasSuffix("— ReFusion's text is closer to the corpus.\n"))
    }

    func testClaimsFailOrStayUnshownWhenTheNumbersSaySo() {
        // ReFusion 2 points ahead of MDM (inside 2 SE), slower than AR with fewer tokens per forward,
        // no faster than MDM, within the paper's AR gap, boundary labels hurting
        let o = outcome(exact: [Self.ar: 0.36, Self.mdm: 0.30, Self.rf: 0.32, Self.dk: 0.40, Self.rfAR: 0.20,
                                DecodeExperiment.paperLabelsARDecoding: 0.50],
                        speeds: [Self.ar: (1000, 1), Self.mdm: (500, 3), Self.rf: (500, 0.8)],
                        textSpeeds: [Self.ar: (1000, 1), Self.mdm: (1000, 1), Self.rf: (500, 1.2)])
        let md = DecodeReportRenderer.markdown(o)
        XCTAssertTrue(line(md, "- Accuracy, ReFusion vs masked diffusion").hasSuffix("**not shown**: ReFusion is ahead but within sampling noise."))
        XCTAssertTrue(line(md, "- Speed vs masked diffusion, arithmetic").hasSuffix("= 1.00x — within noise: **not shown**."))
        XCTAssertTrue(line(md, "- Speed vs masked diffusion, text").hasSuffix("= 0.50x — **does not hold**."))
        XCTAssertTrue(line(md, "- Speed vs AR, arithmetic").contains("0.80 vs 1.00 tokens per forward — **does not hold**"))
        XCTAssertTrue(line(md, "- Speed vs AR, text").hasSuffix("fewer forwards but **slower** in wall-clock here."))
        XCTAssertTrue(line(md, "- Accuracy vs AR").hasSuffix("same direction as the paper, within its 8.1-point gap."))
        XCTAssertTrue(line(md, "- Does ReFusion training keep AR ability?").contains("**hurt** (-30.0 points"))
        XCTAssertTrue(line(md, "- Decoder variants").hasSuffix("faithful behind by 8.0 points."))
        // MDM ahead of ReFusion
        let behind = outcome(exact: [Self.ar: 0.9, Self.mdm: 0.5, Self.rf: 0.4], speeds: [:], textSpeeds: [:])
        XCTAssertTrue(line(DecodeReportRenderer.markdown(behind), "- Accuracy, ReFusion vs masked diffusion").hasSuffix("**does not hold** here."))
        // ReFusion ahead of AR
        let ahead = outcome(exact: [Self.ar: 0.5, Self.mdm: 0.1, Self.rf: 0.7], speeds: [:], textSpeeds: [:])
        XCTAssertTrue(line(DecodeReportRenderer.markdown(ahead), "- Accuracy vs AR").hasSuffix("ReFusion ahead here, unlike the paper."))
    }
}
