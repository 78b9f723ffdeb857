import Distill
import Foundation

/// The recipe's closing comparison, as a Markdown table so it pastes into a README.
func resultsTable(_ reports: [ModelReport]) -> String {
    // Which epoch each model comes from, when a validation split chose or stopped.
    let epochs = reports.contains { $0.epoch != nil }
    var lines = [
        "| model | parameters | test accuracy | test loss | training time |" + (epochs ? " epoch |" : ""),
        "|---|---:|---:|---:|---:|" + (epochs ? "---|" : ""),
    ]
    for report in reports {
        lines.append("| \(report.name) | \(report.parameters) | \(String(format: "%.2f%%", 100 * report.test.accuracy)) | "
            + "\(String(format: "%.4f", report.test.loss)) | \(String(format: "%.1f s", report.trainingSeconds)) |"
            + (epochs ? " \(report.epoch ?? "last") |" : ""))
    }
    return lines.joined(separator: "\n")
}
