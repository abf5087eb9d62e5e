import XCTest
@testable import ReFusion

/// The decode report's verdict rules on hand-made numbers over seeds: each claim sentence follows
/// from the figures (differences against 2 SE of seed spread and test-set error, speed ratios per
/// seed at the matched-quality operating point).
final class ReportVerdictTests: XCTestCase {
    typealias E = DecodeExperiment

    /// A result of 1000 generated tokens at `tps` tokens/s and `tpf` tokens per forward.
    func result(_ name: String, _ task: String, exact: Double = 0, tps: Double = 1000, tpf: Double = 1,
                unverified: Int = 0) -> EvaluationResult {
        EvaluationResult(decoder: name, task: task, examples: 200, exactMatch: exact, judgeBitsPerChar: task == "text" ? 3 : 0,
                         distinct4: task == "text" ? 0.5 : 0, generatedTokens: 1000, forwards: Int(1000 / tpf),
                         seconds: 1000 / tps, unverifiedCommits: unverified)
    }

    /// A hand-made outcome: per seed, arithmetic exact match of each main decoder (`exact[name][seed]`)
    /// and the ReFusion / MDM curves `(tau, exact, tokens/s, tokens/forward)` (AR: 1000 tok/s, 1 per forward).
    func outcome(exact: [String: [Double]], refusionCurve: [(Float, Double, Double, Double)] = [],
                 mdmCurve: [(Float, Double, Double, Double)] = []) -> E.Outcome {
        var plan = E.Plan.named("quick")!
        plan.seeds = [1, 2, 3]
        plan.thresholdSweep = refusionCurve.map(\.0)
        let task = ArithmeticTask(maxDigits: 2, seed: 1)
        let cookies = ["A day for firm decisions!", "Be careful what you wish for."].map { FortuneCorpus.example($0) }
        let data = DecodeDataset(arithmetic: task, arithmeticTrain: [], arithmeticTest: task.testExamples(count: 200),
                                 textTrain: cookies, textTest: cookies)
        let runs = plan.seeds.indices.map { i in
            var main: [EvaluationResult] = []
            for name in [E.arDecoder, E.mdmDecoder, E.refusionDecoder, E.draftKeepingDecoder, E.refusionARDecoder, E.paperRecipeARDecoding]
            where exact[name] != nil && (name != E.paperRecipeARDecoding || i == 0) {
                main.append(result(name, "arithmetic", exact: exact[name]![i], unverified: name == E.draftKeepingDecoder ? 40 : 0))
                main.append(result(name, "text"))
            }
            // tokens/s varies a little per seed (±2 %)
            let jitter = 1 + 0.02 * Double(i - 1)
            let curves = refusionCurve.map { E.CurvePoint(decoder: E.refusionDecoder, threshold: $0.0,
                                                          result: result("r", "arithmetic", exact: $0.1, tps: $0.2 * jitter, tpf: $0.3)) }
                + mdmCurve.map { E.CurvePoint(decoder: E.mdmDecoder, threshold: $0.0,
                                              result: result("m", "arithmetic", exact: $0.1, tps: $0.2 * jitter, tpf: $0.3)) }
            return E.SeedRun(seed: plan.seeds[i], main: main, curves: curves, slotSweep: [], textSamples: [:])
        }
        return E.Outcome(plan: plan, models: [], sweep: [], chosenLearningRate: [:], runs: runs, data: data,
                         trainingSeconds: 1, evaluationSeconds: 1)
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
        let o = outcome(exact: [E.arDecoder: [0.90, 0.91, 0.89], E.mdmDecoder: [0.30, 0.32, 0.28], E.refusionDecoder: [0.88, 0.90, 0.86],
                                E.draftKeepingDecoder: [0.70, 0.72, 0.68], E.refusionARDecoder: [0.90, 0.89, 0.91],
                                E.paperRecipeARDecoding: [0.05]],
                        refusionCurve: [(0.5, 0.89, 2500, 2.5), (0.9, 0.95, 1500, 1.5)],
                        mdmCurve: [(0.5, 0.20, 300, 3), (0.9, 0.40, 100, 1.2)])
        let md = DecodeReportRenderer.markdown(o)
        XCTAssertTrue(line(md, "- Accuracy, ReFusion vs masked diffusion, arithmetic").hasSuffix("— **holds**."))
        XCTAssertTrue(line(md, "- Accuracy, ReFusion vs masked diffusion, arithmetic").contains("88.0 ± 2.0 % vs MDM 30.0 ± 2.0 % (+58.0 points"))
        // 88 % vs 0.9 * 90 % = 81 %: well above
        XCTAssertTrue(line(md, "- Accuracy vs AR, arithmetic").hasSuffix("= 98 % of AR's — at least 90 %: **holds**."))
        XCTAssertTrue(line(md, "- Does ReFusion training keep AR ability?").contains("— **kept** (within 2 SE); with the paper's recipe (first seed only) 5.0 %"))
        XCTAssertTrue(line(md, "- Does ReFusion training keep AR ability?").hasSuffix("this recipe's gain **holds**."))
        // both thresholds are within 2 points of AR's 90 %: the faster one, tau 0.5
        XCTAssertTrue(line(md, "- Operating point, arithmetic:").contains("within 2 points of AR's is tau = 0.5 (89.0 ± 0.0 % vs AR 90.0 ± 1.0 %)"))
        XCTAssertTrue(line(md, "- Speed vs AR at that point, arithmetic").contains("tokens/s ratio 2.50 ± 0.05x, tokens per forward ratio 2.50 ± 0.00x"))
        XCTAssertTrue(line(md, "- Speed vs AR at that point, arithmetic").hasSuffix("faster: **holds**; at least 2x: **holds**."))
        // MDM never comes within 2 points of 89 %: its most accurate point (tau 0.9, 100 tok/s) -> 25x
        XCTAssertTrue(line(md, "- MDM on arithmetic compared at tau = 0.9").contains("its most accurate point"))
        // 89 % vs MDM's best 40 %, far beyond 2 SE: no matched-quality ratio exists, and the line says so
        XCTAssertTrue(line(md, "- MDM on arithmetic compared at tau = 0.9").hasSuffix(
            "MDM reaches ReFusion's accuracy at no threshold (ReFusion ahead by +49.0 points; 2 SE = 8.2 points), "
            + "so no matched-quality speed ratio exists; the ratio below compares ReFusion with a less accurate MDM."))
        XCTAssertTrue(line(md, "- Speed vs masked diffusion at that point, arithmetic").hasSuffix("faster: **holds**; at least 5x: **holds**."))
        XCTAssertFalse(md.contains("- What was tried for speed"), "ReFusion reaches 2x AR: nothing to explain")
        XCTAssertTrue(line(md, "- Decoder variants").contains("with 120 unverified commits over all seeds"))
        XCTAssertTrue(line(md, "- Decoder variants").hasSuffix("faithful ahead: **holds**."))
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
        // ReFusion ahead of MDM on the mean but the seeds disagree; far below 90 % of AR; AR ability lost;
        // no threshold within 2 points of AR: compared at its most accurate one, slower than AR
        let o = outcome(exact: [E.arDecoder: [0.90, 0.90, 0.90], E.mdmDecoder: [0.40, 0.42, 0.38], E.refusionDecoder: [0.30, 0.60, 0.45],
                                E.draftKeepingDecoder: [0.45, 0.46, 0.44], E.refusionARDecoder: [0.20, 0.25, 0.15]],
                        refusionCurve: [(0.5, 0.40, 1200, 1.5), (0.9, 0.50, 900, 0.9)],
                        mdmCurve: [(0.5, 0.45, 500, 3), (0.9, 0.49, 300, 1.5)])
        let md = DecodeReportRenderer.markdown(o)
        XCTAssertTrue(line(md, "- Accuracy, ReFusion vs masked diffusion, arithmetic").hasSuffix("— **not shown**."))
        XCTAssertTrue(line(md, "- Accuracy vs AR, arithmetic").hasSuffix("at least 90 %: **does not hold**."))
        XCTAssertTrue(line(md, "- Does ReFusion training keep AR ability?").contains("**lost** in part"))
        XCTAssertTrue(line(md, "- Operating point, arithmetic:").contains("never within 2 points of AR's; speed is compared at its most accurate threshold, tau = 0.9"))
        XCTAssertTrue(line(md, "- Speed vs AR at that point, arithmetic").hasSuffix("faster: **does not hold**; at least 2x: **does not hold**."))
        // MDM within 2 points of 50 %: tau 0.9 (49 %), not tau 0.5 (45 %): 900 / 300 = 3x
        XCTAssertTrue(line(md, "- MDM on arithmetic compared at tau = 0.9").contains("its fastest point within 2 points"))
        XCTAssertFalse(md.contains("no matched-quality speed ratio exists"), "MDM is matched here")
        // MDM's forward at tau 0.9 covers 1.5 tokens, ReFusion's 0.9: 0.6x the tokens per forward at 3x the tokens/s,
        // so a ReFusion forward takes 0.6 / 3 = 0.2x an MDM forward's wall time
        XCTAssertTrue(line(md, "- Speed vs masked diffusion at that point, arithmetic").contains(
            "tokens/s ratio 3.00 ± 0.00x, tokens per forward ratio 0.60 ± 0.00x, wall time per forward 0.20 ± 0.00x"))
        // missing 2x AR: the report says what was tried, with the draft-keeping variant's computed figures
        let tried = line(md, "- What was tried for speed where ReFusion misses 2x AR (arithmetic)")
        XCTAssertTrue(tried.contains("the draft-keeping variant reaches arithmetic 1.00 ± 0.00x AR's tokens/s at 45.0 ± 1.0 % "
                                     + "(the faithful decoder at the same thresholds: 45.0 ± 15.0 %;"))
        XCTAssertTrue(tried.hasSuffix("2 SE = 20.0 points)."))
        XCTAssertTrue(line(md, "- Speed vs masked diffusion at that point, arithmetic").hasSuffix("faster: **holds**; at least 5x: **does not hold**."))
        XCTAssertTrue(line(md, "- Decoder variants").hasSuffix("faithful ahead: **not shown**."))
    }

    /// Speed at matched quality is judged on every exact-match task measured along curves, each
    /// against its own AR point.
    func testSpeedIsJudgedPerTask() {
        var o = outcome(exact: [E.arDecoder: [0.90, 0.90, 0.90], E.mdmDecoder: [0.3, 0.3, 0.3], E.refusionDecoder: [0.88, 0.88, 0.88]],
                        refusionCurve: [(0.5, 0.89, 2500, 2.5), (0.9, 0.95, 1500, 1.5)],
                        mdmCurve: [(0.5, 0.20, 300, 3), (0.9, 0.40, 100, 1.2)])
        for i in o.runs.indices {
            // sorting: AR 60 % at 1000 tok/s; ReFusion reaches 59 % only at tau 0.9 (1200 tok/s)
            o.runs[i].main.append(result(E.arDecoder, "sorting", exact: 0.60))
            o.runs[i].curves += [E.CurvePoint(decoder: E.refusionDecoder, threshold: 0.5, result: result("r", "sorting", exact: 0.30, tps: 3000, tpf: 3)),
                                 E.CurvePoint(decoder: E.refusionDecoder, threshold: 0.9, result: result("r", "sorting", exact: 0.59, tps: 1200, tpf: 1.2))]
        }
        let md = DecodeReportRenderer.markdown(o)
        XCTAssertTrue(line(md, "- Operating point, arithmetic:").contains("tau = 0.5"))
        XCTAssertTrue(line(md, "- Operating point, sorting:").contains("within 2 points of AR's is tau = 0.9 (59.0 ± 0.0 % vs AR 60.0 ± 0.0 %)"))
        XCTAssertTrue(line(md, "- Speed vs AR at that point, sorting").contains("tokens/s ratio 1.20 ± 0.00x"))
        XCTAssertTrue(line(md, "- Speed vs AR at that point, sorting").hasSuffix("faster: **holds**; at least 2x: **does not hold**."))
        XCTAssertTrue(md.contains("### sorting\n"), "a curve table per task")
        // only sorting misses 2x AR; no draft-keeping result on sorting, so no variant figures
        XCTAssertTrue(line(md, "- What was tried for speed where ReFusion misses 2x AR (sorting):").hasSuffix("(same tokens, fewer forwards)."))
    }
}
