import Datasets
import Evaluation
import Foundation

extension DecodeReportRenderer {
    /// The accuracy-throughput figures, one per exact-match task: exact match against tokens/s per
    /// decoder (mean over seeds, bars ± spread), one point per threshold, AR a single point. Writes
    /// `<base>-<task>.png` into `directory`. -> task: file name
    public static func writeCurveFigures(_ o: DecodeExperiment.Outcome, to directory: URL,
                                         base: String = "decode-accuracy-throughput") throws -> [String: String] {
        let sum = DecodeSummary(o)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var files: [String: String] = [:]
        for task in sum.curveTasks {
            let series: [LineChart.Series] = [DecodeExperiment.arDecoder, DecodeExperiment.refusionDecoder, DecodeExperiment.mdmDecoder].map { d in
                let c = sum.curve(d, task: task).sorted { $0.tokensPerSecond.mean < $1.tokensPerSecond.mean }
                return LineChart.Series(name: d == DecodeExperiment.arDecoder ? d : "\(d) (one point per threshold)",
                                        x: c.map(\.tokensPerSecond.mean), y: c.map { 100 * $0.accuracy.mean },
                                        low: c.map { 100 * ($0.accuracy.mean - $0.accuracy.spread) },
                                        high: c.map { 100 * ($0.accuracy.mean + $0.accuracy.spread) }, lines: c.count > 1)
            }
            let chart = LineChart(series, xLabel: "tokens/s (\(task), one stream)", yLabel: "exact match, %",
                                  title: "\(task): accuracy vs throughput, mean over \(o.runs.count) seeds (bars: ± spread)")
            let name = "\(base)-\(task).png"
            try PNGCodec.write(chart.render(), to: directory.appendingPathComponent(name).path)
            files[task] = name
        }
        return files
    }
}
