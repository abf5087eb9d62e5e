import Datasets
@testable import Evaluation
import XCTest

/// The report chart's axis ticks and title: round, distinct tick labels (two ticks once both
/// read "1.5E3") and titles wrapped instead of cut at the image's edge.
final class LineChartTests: XCTestCase {
    func testLinearTicksAreRoundAndTheirLabelsDistinct() {
        let gfd = LineChart.Ticks(1419.1, 1670.4)   // the rectok figure's y range
        XCTAssertEqual(gfd.values, [1450, 1500, 1550, 1600, 1650])
        XCTAssertEqual(gfd.labels, ["1450", "1500", "1550", "1600", "1650"])
        let accuracy = LineChart.Ticks(0.49, 0.61)
        XCTAssertEqual(accuracy.labels, ["0.500", "0.525", "0.550", "0.575", "0.600"])
        XCTAssertEqual(LineChart.Ticks(-3, 7).labels, ["-2", "0", "2", "4", "6"])
        XCTAssertEqual(LineChart.Ticks(2.5e5, 9.5e5).labels, ["4e5", "6e5", "8e5"])
        // Over many ranges (spans from 1e-4 to 100 times the values): 3 to 7 ticks, inside the range,
        // no two labels alike.
        var rng = SeededRNG(seed: 12)
        for _ in 0..<2000 {
            let lo = Double.random(in: -1e4...1e4, using: &rng) * pow(10, Double(Int.random(in: -6...0, using: &rng)))
            let hi = lo + max(abs(lo), 1e-9) * Double.random(in: 1...10, using: &rng) * pow(10, Double(Int.random(in: -4...1, using: &rng)))
            let t = LineChart.Ticks(lo, hi)
            XCTAssertTrue((3...7).contains(t.values.count), "\(lo)...\(hi): \(t.values)")
            XCTAssertTrue(t.values.allSatisfy { $0 >= lo - 1e-9 * abs(lo) && $0 <= hi + 1e-9 * abs(hi) }, "\(lo)...\(hi): \(t.values)")
            XCTAssertEqual(Set(t.labels).count, t.labels.count, "\(lo)...\(hi): \(t.labels)")
        }
    }

    func testLongTitlesWrapAtSpaces() {
        let title = "gFD of its generator vs latent width, flow semantic distillation on / off (bars: ±1 std)"
        let lines = LineChart.wrap(title, maxChars: 79)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines.allSatisfy { $0.count <= 79 }, "\(lines)")
        XCTAssertEqual(lines.joined(separator: " "), title)
        XCTAssertEqual(LineChart.wrap("short", maxChars: 79), ["short"])
        XCTAssertEqual(LineChart.wrap("", maxChars: 79), [])
        // The wrapped title's second line is drawn: dark pixels between y = 20 and 34, above the plot.
        var chart = LineChart([.init(name: "a", x: [1, 2], y: [1, 2])], xLabel: "x", yLabel: "y", title: title)
        chart.width = 640
        let img = chart.render()
        let dark = (20..<34).contains { y in (0..<img.width).contains { x in img[x, y, 0] < 0.5 } }
        XCTAssertTrue(dark, "second title line drawn")
    }
}
