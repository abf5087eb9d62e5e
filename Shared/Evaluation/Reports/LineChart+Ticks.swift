import Foundation

extension LineChart {
    /// Tick positions and their labels for one axis. The linear form picks round values: a step of
    /// 1, 2, 2.5 or 5 × 10^k giving about five ticks inside [lo, hi], each labelled with the decimals
    /// the step needs, so two ticks never share a label (as "1.5E3" did for 1450 and 1550).
    struct Ticks: Equatable {
        var values: [Double]
        var labels: [String]

        init(values: [Double], labels: [String]) {
            self.values = values; self.labels = labels
        }

        /// Round ticks covering [lo, hi] (a linear axis).
        init(_ lo: Double, _ hi: Double) {
            let span = hi - lo
            guard span > 0, span.isFinite, lo.isFinite else {
                self.init(values: [lo], labels: [LineChart.format(lo)])
                return
            }
            // Among round steps near span / 5, the one whose tick count is nearest five (ties: fewer ticks).
            let magnitude = pow(10, (log10(span / 5)).rounded(.down))
            let candidates = [0.1, 1, 10].flatMap { m in [1, 2, 2.5, 5].map { $0 * m * magnitude } }
            func count(_ step: Double) -> Int { Int((hi / step).rounded(.down) - (lo / step).rounded(.up)) + 1 }
            let step = candidates.min { a, b in
                let ka = (abs(count(a) - 5), count(a) > 5 ? 1 : 0), kb = (abs(count(b) - 5), count(b) > 5 ? 1 : 0)
                return ka < kb
            }!
            let first = (lo / step).rounded(.up), last = (hi / step).rounded(.down)
            let values = stride(from: first, through: last, by: 1).map { $0 == 0 ? 0 : $0 * step }
            // Decimals that tell adjacent ticks apart: those of the step (one more for 2.5 × 10^k); in
            // exponent form, enough significant digits for the step at this magnitude.
            var decimals = max(0, -Int((log10(step) + 1e-9).rounded(.down)))
            let scaled = step * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) > 1e-6 { decimals += 1 }
            let extreme = max(abs(lo), abs(hi))
            let significant = min(15, max(3, Int(log10(extreme / step).rounded(.up)) + 2))
            let labels = values.map { v -> String in
                if v == 0 { return "0" }
                if extreme >= 1e5 || step < 1e-3 {
                    return LineChart.exponent(v, significant: significant)
                }
                return String(format: "%.\(decimals)f", v)
            }
            self.init(values: values, labels: labels)
        }
    }
}
