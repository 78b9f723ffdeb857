import Foundation

/// Rank 0's report in `directory`: sweep.md (SweepMarkdown) and heatmap-f<fraction>-e<epochs>.png per
/// search group; a figure that cannot be drawn (no gnuplot) is a warning in `log`, never a failure.
public func writeSweepReport(search: SweepSummary, confirmed: SweepSummary, confirmSkipped: Bool, grid: SweepGrid,
                             context: [String], to directory: String, log: (String) -> Void) throws {
    var images: [String: String] = [:]
    for group in search.groups {
        let name = "heatmap-f\(group.trainFraction)-e\(group.epochs).png"
        let path = (directory as NSString).appendingPathComponent(name)
        do {
            try drawHeatmap(group, grid: grid, to: path)
            images["\(group.trainFraction) \(group.epochs)"] = name
            log("wrote \(path)")
        } catch {
            log("warning: no heatmap \(name): \(error)")
        }
    }
    let markdown = SweepMarkdown.render(search: search, confirm: confirmed, context: context, confirmSkipped: confirmSkipped) {
        images["\($0) \($1)"]
    }
    let report = (directory as NSString).appendingPathComponent("sweep.md")
    do { try markdown.write(toFile: report, atomically: true, encoding: .utf8) } catch {
        throw TrainingError("\(report): cannot write it (\(error.localizedDescription))")
    }
    log("wrote \(report)")
}
