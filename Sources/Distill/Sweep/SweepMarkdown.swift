import Foundation

/// The sweep's report as Markdown: a table per train fraction and epoch count (distilled against
/// its scratch twins on the validation split), the best setting per fraction and loss, its
/// confirmation on fresh seeds and the test set, and, with several losses, the methods ranked.
public enum SweepMarkdown {
    /// `context`: lines about the teacher, student and data; `heatmap(fraction, epochs)`: the images' file names, if drawn.
    /// `confirmSkipped`: the confirmation was turned off (`--confirm-seeds none`), not merely not reached.
    public static func render(search: SweepSummary, confirm: SweepSummary, context: [String], confirmSkipped: Bool = false,
                              heatmap: (Double, Int) -> [String] = { _, _ in [] }) -> String {
        var out = ["# Distillation sweep", ""] + context + ["",
            "Accuracy in %, mean ± standard deviation over seeds. *Difference*: distilled minus its scratch twin of the same "
                + "seed (same initial weights, training subset and batch order), in points; *t*: the paired t statistic over seeds "
                + "(mean difference / its standard error). *Agreement*: top-1 agreement with the teacher; *ECE*: expected "
                + "calibration error over 15 bins of confidence, in %; both on the same evaluation set, – where not measured.",
            "", "## Search (validation split)", ""]
        for group in search.groups {
            let scratch = PairedComparison.Spread(group.scratch.sorted { $0.key < $1.key }.map(\.value))
            out.append("### Train fraction \(group.trainFraction), \(group.epochs) epoch\(group.epochs == 1 ? "" : "s"): "
                + "scratch \(percent(scratch)) (\(group.scratch.count) seed\(group.scratch.count == 1 ? "" : "s")), "
                + "agreement \(percent(group.scratchAgreement)), ECE \(percent(group.scratchCalibrationError))")
            out += ["", "| method | alpha | T | distilled % | difference (points) | t | agreement % | ECE % | seeds |",
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for row in group.settings {
                out.append("| \(row.method.loss) | \(optional(row.method.alpha)) | \(optional(row.method.temperature)) "
                    + "| \(percent(row.comparison.distilled)) | \(points(row.comparison.difference)) | \(t(row.comparison)) "
                    + "| \(percent(row.agreement)) | \(percent(row.calibrationError)) | \(row.comparison.seeds) |")
            }
            for image in heatmap(group.trainFraction, group.epochs) { out += ["", "![mean difference over alpha x T](\(image))"] }
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
            out += ["| train fraction | epochs | method | alpha | T | distilled % | scratch % | difference (points) | t | agreement % | ECE % | seeds |",
                    "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for (group, row) in rows {
                out.append("| \(group.trainFraction) | \(group.epochs) | \(row.method.loss) | \(optional(row.method.alpha)) "
                    + "| \(optional(row.method.temperature)) | \(percent(row.comparison.distilled)) | \(percent(row.comparison.scratch)) "
                    + "| \(points(row.comparison.difference)) | \(t(row.comparison)) | \(percent(row.agreement)) "
                    + "| \(percent(row.calibrationError)) | \(row.comparison.seeds) |")
            }
        }
        out += methods(search: search, confirm: confirm)
        return out.joined(separator: "\n") + "\n"
    }

    /// With several losses: per train fraction, each loss's best setting ranked by its gain on scratch, with the
    /// paired comparison against KD's; from the confirmation where it has run, else from the search.
    static func methods(search: SweepSummary, confirm: SweepSummary) -> [String] {
        let confirmed = !confirm.groups.isEmpty
        let summary = confirmed ? confirm : search
        let ranking = summary.ranking()
        guard ranking.contains(where: { $0.entries.count > 1 }) else { return [] }
        var out = ["", "## Methods ranked (\(confirmed ? "confirmation: fresh seeds, test set" : "search: validation split, not yet confirmed"))", "",
                   "Each loss at its best setting on validation; *vs kd*: paired over seeds against KD's best, in points."]
        for (fraction, entries) in ranking {
            out += ["", "### Train fraction \(fraction)", "",
                    "| rank | method | epochs | distilled % | vs scratch (points) | t | vs kd (points) | t | agreement % | ECE % | seeds |",
                    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for (place, entry) in entries.enumerated() {
                let comparison = entry.row.comparison
                let kd = entry.againstKD.map { "\(points($0.difference)) | \(t($0))" } ?? "– | –"
                let mix = entry.row.method.alpha.map { " alpha \($0), T \(optional(entry.row.method.temperature))" } ?? ""
                out.append("| \(place + 1) | \(entry.row.method.loss)\(mix) | \(entry.setting.epochs) | \(percent(comparison.distilled)) "
                    + "| \(points(comparison.difference)) | \(t(comparison)) | \(kd) | \(percent(entry.row.agreement)) "
                    + "| \(percent(entry.row.calibrationError)) | \(comparison.seeds) |")
            }
            // The scratch twins the entries were paired with, for reference.
            var epochs: [Int] = []
            for entry in entries where !epochs.contains(entry.setting.epochs) { epochs.append(entry.setting.epochs) }
            for group in summary.groups where group.trainFraction == fraction && epochs.contains(group.epochs) {
                let scratch = PairedComparison.Spread(group.scratch.sorted { $0.key < $1.key }.map(\.value))
                out.append("| – | scratch | \(group.epochs) | \(percent(scratch)) | | | | | \(percent(group.scratchAgreement)) "
                    + "| \(percent(group.scratchCalibrationError)) | \(group.scratch.count) |")
            }
        }
        return out
    }

    /// `alpha 0.5, T 4.0, 3 epochs` for KD, `kd:standardize alpha 0.5, T 4.0, 3 epochs`, `dkd, 3 epochs`.
    public static func describe(_ setting: SweepSetting) -> String {
        let method = setting.method
        let loss = method.map { $0.loss == LossRegistry.defaultName && $0.alpha != nil ? "" : $0.loss } ?? ""
        let mix = method?.alpha.map { "alpha \($0), T \(optional(method?.temperature))" }
        return [loss.isEmpty ? nil : loss, mix].compactMap { $0 }.joined(separator: " ") + ", "
            + "\(setting.epochs) epoch\(setting.epochs == 1 ? "" : "s")"
    }

    static func optional(_ value: Float?) -> String { value.map { "\($0)" } ?? "–" }

    static func percent(_ spread: PairedComparison.Spread?) -> String {
        spread.map { String(format: "%.2f ± %.2f", 100 * $0.mean, 100 * $0.standardDeviation) } ?? "–"
    }

    static func points(_ spread: PairedComparison.Spread) -> String {
        "\(signed(spread.mean)) ± " + String(format: "%.2f", 100 * spread.standardDeviation)
    }

    /// A difference in points with its sign.
    public static func signed(_ difference: Double) -> String { String(format: "%+.2f", 100 * difference) }

    public static func t(_ comparison: PairedComparison) -> String { comparison.t.map { String(format: "%.1f", $0) } ?? "–" }
}
