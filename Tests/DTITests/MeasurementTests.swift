import ComputeCore
import Datasets
@testable import Evaluation
import XCTest
@testable import DTI
@testable import Models

/// The measurements of issue 12: the first-LayerNorm hook, the positional probe and the chart.
final class MeasurementTests: XCTestCase {
    nonisolated(unsafe) static var sharedProbe: PositionalProbe?
    func probe() throws -> PositionalProbe {
        if let p = Self.sharedProbe { return p }
        let p = try PositionalProbe(encoder: try DTITestSupport.encoder(), positions: 16, trainWords: 48, validationWords: 24)
        Self.sharedProbe = p
        return p
    }

    /// LN(row + pos_p + type_0) against an independent float64 computation from the weights.
    func testFirstLayerNormOutputMatchesAHandComputation() throws {
        let enc = try DTITestSupport.encoder(), D = 384
        let row = enc.inputEmbeddings([enc.tokenizer.ids["bag"]!])
        let out = enc.firstLayerNormOutput(rows: row + row, positions: [3, 17])
        for (k, p) in [3, 17].enumerated() {
            let x = (0..<D).map { Double(row[$0]) + Double(enc.positionEmbeddings[p * D + $0]) + Double(enc.tokenTypeEmbedding[$0]) }
            let mean = x.reduce(0, +) / Double(D)
            let varc = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(D)
            for d in 0..<D {
                let want = (x[d] - mean) / (varc + 1e-12).squareRoot() * Double(enc.embLNg[d]) + Double(enc.embLNb[d])
                XCTAssertEqual(Double(out[k * D + d]), want, accuracy: 1e-4)
            }
        }
    }

    /// Vocabulary-sized tokens keep their position; a token 1000x m* drowns it (near chance); the
    /// probe's regulariser was chosen on held-out words it also reads well.
    func testProbeRecoversPositionsAtVocabularyNormAndLosesThemWhenTheNormGrows() throws {
        let p = try probe(), enc = try DTITestSupport.encoder(), m = try DTITestSupport.mStar()
        XCTAssertGreaterThan(p.validationAccuracy, 0.9)
        let shoe = try ConceptToken.classEmbedding("shoe", encoder: enc)
        XCTAssertGreaterThan(p.value(shoe), 0.9)
        let curve = p.curve(direction: shoe, norms: [m, 30 * m, 1000 * m])
        XCTAssertGreaterThan(curve[0], 0.9)
        XCTAssertLessThan(curve[2], 0.25, "\(curve)")
        XCTAssertLessThanOrEqual(curve[2], curve[1])
    }

    func testChartDrawsSeriesAxesAndLegend() throws {
        let img = LineChart.figure([LineChart.Series(name: "A", x: [1, 2, 3], y: [1, 4, 9]), LineChart.Series(name: "B", x: [1, 3], y: [2, 2], lines: false)],
                                     title: "T", xLabel: "STEP", yLabel: "NORM", width: 300, height: 200)
        XCTAssertEqual([img.width, img.height], [300, 200])
        func count(_ c: (Float, Float, Float)) -> Int {
            (0..<(300 * 200)).filter { img.pixels[3 * $0] == c.0 && img.pixels[3 * $0 + 1] == c.1 && img.pixels[3 * $0 + 2] == c.2 }.count
        }
        XCTAssertGreaterThan(count(LinePlot.palette[0]), 50, "series A")
        XCTAssertGreaterThan(count(LinePlot.palette[1]), 25, "series B markers")
        XCTAssertGreaterThan(count((0, 0, 0)), 300, "axes, ticks and text")
    }
}
