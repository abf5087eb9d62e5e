import Foundation

/// Scores of one set of generated images (METHODS.md "How a claim is measured"): gFD against a
/// real split and prompt-attribute accuracy, each with its spread.
public struct GenerationMetrics: Codable, Sendable, Equatable {
    /// Generated images scored.
    public var images: Int
    /// Real images behind the reference statistics, and which split.
    public var referenceImages: Int
    public var referenceDataset: String
    /// EfficientNet-Lite0 input resolution (FD values compare only at the same resolution and counts).
    public var fdResolution: Int
    /// FD-EffNet of the generated set vs the reference; interval and std from a bootstrap over
    /// generated images (resampling duplicates images, so replicates sit above the point value:
    /// read the std as the spread).
    public var gFD: Estimate
    /// Share of images the real-trained classifier puts in the prompted class (bootstrap 95 %).
    public var classAccuracy: Estimate
    /// Share whose garment hue is nearest the prompted colour (bootstrap 95 %).
    public var colorAccuracy: Estimate
    /// Share with both right.
    public var bothAccuracy: Estimate
    /// Images with no coloured pixel (counted as wrong colour).
    public var colorless: Int
    /// The class judge's own accuracy on real test images (the ceiling of `classAccuracy`).
    public var classifierTestAccuracy: Double
    public var classifierTestImages: Int
    public var seconds: Double

    /// Whether the prompt-attribute judges ran (not for a gFD-only evaluator).
    public var hasAccuracy: Bool { classAccuracy.value.isFinite }

    /// Flat metrics for the run audit (accuracy keys only when the judges ran; no NaN values).
    public var dictionary: [String: Double] {
        let all: [String: Double] = [
            "gfd": gFD.value, "gfd_std": gFD.std, "gfd_low": gFD.low, "gfd_high": gFD.high,
            "class_accuracy": classAccuracy.value, "class_accuracy_low": classAccuracy.low, "class_accuracy_high": classAccuracy.high,
            "color_accuracy": colorAccuracy.value, "color_accuracy_low": colorAccuracy.low, "color_accuracy_high": colorAccuracy.high,
            "both_accuracy": bothAccuracy.value, "images": Double(images), "reference_images": Double(referenceImages),
            "fd_resolution": Double(fdResolution), "classifier_test_accuracy": classifierTestAccuracy, "colorless": Double(colorless),
        ]
        return all.filter { $0.value.isFinite }
    }

    /// Three lines for a terminal (one without attribute judges).
    public var summary: String {
        let fd = """
        gFD \(String(format: "%.2f ± %.2f", gFD.value, gFD.std)) (± bootstrap std; a resample repeats images, so its percentile interval sits above the value) of \(images) generated vs \(referenceImages) real \(referenceDataset) images, FD-EffNet at \(fdResolution) px
        """
        guard hasAccuracy else { return fd + "\nno prompt-attribute judges for \(referenceDataset) (gFD only)" }
        return fd + """

        class accuracy \(classAccuracy.formatted()) (classifier trained on real images only; \(String(format: "%.3f", classifierTestAccuracy)) on \(classifierTestImages) real test images)
        colour accuracy \(colorAccuracy.formatted()) (garment hue), both \(bothAccuracy.formatted()); accuracies with 95 % bootstrap intervals
        """
    }
}
