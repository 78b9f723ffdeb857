import Foundation

/// Draws one sweep group's mean paired difference (distilled minus scratch, points) of `loss` (one
/// that takes the KD mix) over alpha (rows) x temperature (columns) as a PNG with gnuplot: writes
/// `<png>.dat` (the matrix) and `<png>.gp` (the script) beside it, so the figure can be redrawn.
public func drawHeatmap(_ group: SweepSummary.Group, loss: String, grid: SweepGrid, to png: String) throws {
    let alphas = grid.alphas.sorted(), temperatures = grid.temperatures.sorted()
    var cells: [[Double]] = alphas.map { _ in temperatures.map { _ in .nan } }
    for row in group.settings where row.method.loss == loss {
        guard let alpha = row.method.alpha, let temperature = row.method.temperature,
              let i = alphas.firstIndex(of: alpha), let j = temperatures.firstIndex(of: temperature) else { continue }
        cells[i][j] = 100 * row.comparison.difference.mean
    }
    let finite = cells.joined().filter(\.isFinite)
    guard !finite.isEmpty else { throw PlotError("no paired runs to draw") }
    let range = max(finite.map(abs).max() ?? 0, 0.05)
    let matrix = cells.map { $0.map { $0.isFinite ? String(format: "%.4f", $0) : "NaN" }.joined(separator: " ") }.joined(separator: "\n")
    try (matrix + "\n").write(toFile: png + ".dat", atomically: true, encoding: .utf8)
    func tics(_ values: [Float]) -> String { "(" + values.enumerated().map { "\"\($1)\" \($0)" }.joined(separator: ", ") + ")" }
    let script = """
        set terminal png size 720,540
        set output '\(png)'
        set title "\(loss) - scratch twin, mean over seeds (points): train fraction \(group.trainFraction), \(group.epochs) epochs"
        set xlabel "temperature T"
        set ylabel "alpha"
        set xtics \(tics(temperatures))
        set ytics \(tics(alphas))
        set xrange [-0.5:\(Double(temperatures.count) - 0.5)]
        set yrange [-0.5:\(Double(alphas.count) - 0.5)]
        set cbrange [\(-range):\(range)]
        set cblabel "points"
        set palette defined (0 "#b2182b", 0.5 "#f7f7f7", 1 "#2166ac")
        plot '\(png).dat' matrix with image notitle, \\
             '\(png).dat' matrix using 1:2:(sprintf("%+.2f", $3)) with labels notitle
        """
    try (script + "\n").write(toFile: png + ".gp", atomically: true, encoding: .utf8)
    try runGnuplot(script)
}
