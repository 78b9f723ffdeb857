import Foundation

/// The sweep's report as Markdown: a table per train fraction and epoch count (distilled against
/// its scratch twins on the validation split), the best setting per fraction, and its confirmation
/// on fresh seeds and the test set.
public enum SweepMarkdown {
    /// `context`: lines about the teacher, student and data; `heatmap(fraction, epochs)`: the image's file name, if drawn.
    /// `confirmSkipped`: the confirmation was turned off (`--confirm-seeds none`), not merely not reached.
    public static func render(search: SweepSummary, confirm: SweepSummary, context: [String], confirmSkipped: Bool = false,
                              heatmap: (Double, Int) -> String? = { _, _ in nil }) -> String {
        var out = ["# Distillation sweep", ""] + context + ["",
            "Accuracy in %, mean ± standard deviation over seeds. *Difference*: distilled minus its scratch twin of the same "
                + "seed (same initial weights, training subset and batch order), in points; *t*: the paired t statistic over seeds "
                + "(mean difference / its standard error).", "", "## Search (validation split)", ""]
        for group in search.groups {
            let scratch = PairedComparison.Spread(group.scratch.sorted { $0.key < $1.key }.map(\.value))
            out.append("### Train fraction \(group.trainFraction), \(group.epochs) epoch\(group.epochs == 1 ? "" : "s"): "
                + "scratch \(percent(scratch)) (\(group.scratch.count) seed\(group.scratch.count == 1 ? "" : "s"))")
            out += ["", "| alpha | T | distilled % | difference (points) | t | seeds |", "|---:|---:|---:|---:|---:|---:|"]
            for (alpha, temperature, comparison) in group.settings {
                out.append("| \(alpha) | \(temperature) | \(percent(comparison.distilled)) | \(points(comparison.difference)) "
                    + "| \(t(comparison)) | \(comparison.seeds) |")
            }
            if let image = heatmap(group.trainFraction, group.epochs) { out += ["", "![mean difference over alpha x T](\(image))"] }
            out.append("")
        }
        for (setting, comparison) in search.best() {
            out.append("**Best on validation at train fraction \(setting.trainFraction)**: \(describe(setting)) "
                + "(difference \(signed(comparison.difference.mean)) points, t \(t(comparison)), \(comparison.seeds) seeds).")
            out.append("")
        }
        out += ["## Confirmation (fresh seeds, test set)", ""]
        let rows = confirm.groups.flatMap { group in group.settings.map { (group, $0) } }
        if rows.isEmpty {
            out.append(confirmSkipped ? "Skipped (--confirm-seeds none)." : "Not run yet.")
        } else {
            out += ["| train fraction | epochs | alpha | T | distilled % | scratch % | difference (points) | t | seeds |",
                    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for (group, (alpha, temperature, comparison)) in rows {
                out.append("| \(group.trainFraction) | \(group.epochs) | \(alpha) | \(temperature) | \(percent(comparison.distilled)) "
                    + "| \(percent(comparison.scratch)) | \(points(comparison.difference)) | \(t(comparison)) | \(comparison.seeds) |")
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    public static func describe(_ setting: SweepSetting) -> String {
        "alpha \(setting.alpha.map { "\($0)" } ?? "-"), T \(setting.temperature.map { "\($0)" } ?? "-"), "
            + "\(setting.epochs) epoch\(setting.epochs == 1 ? "" : "s")"
    }

    static func percent(_ spread: PairedComparison.Spread) -> String {
        String(format: "%.2f ± %.2f", 100 * spread.mean, 100 * spread.standardDeviation)
    }

    static func points(_ spread: PairedComparison.Spread) -> String {
        "\(signed(spread.mean)) ± " + String(format: "%.2f", 100 * spread.standardDeviation)
    }

    /// A difference in points with its sign.
    public static func signed(_ difference: Double) -> String { String(format: "%+.2f", 100 * difference) }

    public static func t(_ comparison: PairedComparison) -> String { comparison.t.map { String(format: "%.1f", $0) } ?? "–" }
}
