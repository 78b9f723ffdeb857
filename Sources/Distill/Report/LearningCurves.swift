import Foundation

/// Draws the recipe's learning curves (training accuracy and loss per epoch of each phase, from the
/// CSV files in `directory`) into `directory/learning-curves.png` with gnuplot. Returns the path, or
/// throws why nothing was drawn (no gnuplot, no CSV files): a plot is a convenience, never a failure.
public func drawLearningCurves(in directory: String) throws -> String {
    let phases = Phase.recipe.map(\.fileStem).filter {
        FileManager.default.fileExists(atPath: "\(directory)/\($0).csv")
    }
    guard !phases.isEmpty else { throw PlotError("no metrics files in \(directory)") }
    let output = "\(directory)/learning-curves.png"
    // Column 2 of each CSV is the first loss; the accuracy is the column named "accuracy".
    func curves(_ column: String) -> String {
        phases.map { "'\(directory)/\($0).csv' using 1:\(column) with linespoints title '\($0)'" }.joined(separator: ", ")
    }
    try runGnuplot("""
        set terminal pngcairo size 1100,450 noenhanced
        set output '\(output)'
        set datafile separator ','
        set key autotitle columnhead
        set multiplot layout 1,2
        set xlabel 'epoch'
        set ylabel 'training accuracy'
        plot \(curves("'accuracy'"))
        set ylabel 'training loss (first loss column)'
        plot \(curves("2"))
        unset multiplot
        """)
    return output
}
