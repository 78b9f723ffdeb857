import Foundation

/// Rank 0's report in `directory`: sweep.md (SweepMarkdown) and, per search group and loss that takes
/// the KD mix, heatmap-f<fraction>-e<epochs>.png (kd) or heatmap-f<fraction>-e<epochs>-<loss>.png; a
/// figure that cannot be drawn (no gnuplot) is a warning in `log`, never a failure.
public func writeSweepReport(search: SweepSummary, confirmed: SweepSummary, confirmSkipped: Bool, grid: SweepGrid,
                             context: [String], to directory: String, log: (String) -> Void) throws {
    var images: [String: [String]] = [:]
    for group in search.groups {
        for loss in grid.losses where group.settings.contains(where: { $0.method.loss == loss && $0.method.alpha != nil }) {
            let safe = String(loss.map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "-" })
            let name = "heatmap-f\(group.trainFraction)-e\(group.epochs)\(loss == LossRegistry.defaultName ? "" : "-" + safe).png"
            let path = (directory as NSString).appendingPathComponent(name)
            do {
                try drawHeatmap(group, loss: loss, grid: grid, to: path)
                images["\(group.trainFraction) \(group.epochs)", default: []].append(name)
                log("wrote \(path)")
            } catch {
                log("warning: no heatmap \(name): \(error)")
            }
        }
    }
    let markdown = SweepMarkdown.render(search: search, confirm: confirmed, context: context, confirmSkipped: confirmSkipped) {
        images["\($0) \($1)"] ?? []
    }
    let report = (directory as NSString).appendingPathComponent("sweep.md")
    do { try markdown.write(toFile: report, atomically: true, encoding: .utf8) } catch {
        throw TrainingError("\(report): cannot write it (\(error.localizedDescription))")
    }
    log("wrote \(report)")
}
