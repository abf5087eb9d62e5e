import Datasets
import Evaluation
import Foundation

extension DecodeReportRenderer {
    /// The accuracy-throughput figure: exact match against tokens/s per decoder (mean over seeds,
    /// bars ± spread), one point per threshold, AR a single point. Writes `name` into `directory`.
    public static func writeCurveFigure(_ o: DecodeExperiment.Outcome, to directory: URL,
                                        name: String = "decode-accuracy-throughput.png") throws -> String {
        let sum = DecodeSummary(o)
        let series: [LineChart.Series] = [DecodeExperiment.arDecoder, DecodeExperiment.refusionDecoder, DecodeExperiment.mdmDecoder].map { d in
            let c = sum.curve(d).sorted { $0.tokensPerSecond.mean < $1.tokensPerSecond.mean }
            return LineChart.Series(name: d == DecodeExperiment.arDecoder ? d : "\(d) (one point per threshold)",
                                    x: c.map(\.tokensPerSecond.mean), y: c.map { 100 * $0.accuracy.mean },
                                    low: c.map { 100 * ($0.accuracy.mean - $0.accuracy.spread) },
                                    high: c.map { 100 * ($0.accuracy.mean + $0.accuracy.spread) }, lines: c.count > 1)
        }
        let chart = LineChart(series, xLabel: "tokens/s (arithmetic, one stream)", yLabel: "exact match, %",
                              title: "accuracy vs throughput, mean over \(o.runs.count) seeds (bars: ± spread)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try PNGCodec.write(chart.render(), to: directory.appendingPathComponent(name).path)
        return name
    }
}
