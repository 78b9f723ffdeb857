import Distill
import Foundation

/// Draws the recipe's learning curves (training accuracy and loss per epoch of each phase, from the
/// CSV files in `directory`) into `directory/learning-curves.png` with gnuplot. Returns the path, or
/// why nothing was drawn (no gnuplot, no CSV files): a plot is a convenience, never a failure.
func plotLearningCurves(in directory: String) -> Result<String, CommandError> {
    let phases = Phase.recipe.map(\.fileStem).filter {
        FileManager.default.fileExists(atPath: "\(directory)/\($0).csv")
    }
    guard !phases.isEmpty else { return .failure(CommandError("no metrics files in \(directory)")) }
    guard let gnuplot = ["/usr/bin/gnuplot", "/usr/local/bin/gnuplot"].first(where: FileManager.default.isExecutableFile) else {
        return .failure(CommandError("gnuplot is not installed (apt-get install gnuplot-nox)"))
    }
    let output = "\(directory)/learning-curves.png"
    // Column 2 of each CSV is the first loss; the accuracy is the column named "accuracy".
    func curves(_ column: String) -> String {
        phases.map { "'\(directory)/\($0).csv' using 1:\(column) with linespoints title '\($0)'" }.joined(separator: ", ")
    }
    let script = """
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
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: gnuplot)
    let input = Pipe()
    process.standardInput = input
    process.standardError = FileHandle.nullDevice
    do {
        try process.run()
        input.fileHandleForWriting.write(Data(script.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
    } catch {
        return .failure(CommandError("gnuplot could not run: \(error)"))
    }
    guard process.terminationStatus == 0 else { return .failure(CommandError("gnuplot failed (status \(process.terminationStatus))")) }
    return .success(output)
}

extension Session {
    /// Draws the learning curves and says where, or why not (a plot is never a failure).
    func drawLearningCurves(in directory: String) {
        switch plotLearningCurves(in: directory) {
        case .success(let path): log("learning curves: \(path)")
        case .failure(let why): log("learning curves not drawn: \(why)")
        }
    }
}
