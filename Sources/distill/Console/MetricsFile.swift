import Distill
import Foundation

/// Writes a phase's per-epoch metrics and test figures as JSON, for scripts and tests:
/// `{"metrics": [names], "epochs": [[values]], "test": {"loss": x, "accuracy": y}}`.
func writeMetrics(_ history: FitHistory, test: Evaluation, to path: String) throws {
    let object: [String: Any] = [
        "metrics": history.metricNames,
        "epochs": history.epochs,
        "test": ["loss": test.loss, "accuracy": test.accuracy],
    ]
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    guard FileManager.default.createFile(atPath: path, contents: data) else {
        throw CommandError("\(path): cannot write the metrics file")
    }
}
