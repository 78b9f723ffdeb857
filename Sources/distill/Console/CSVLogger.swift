import Distill
import Foundation

/// One CSV row per epoch, as Keras's `CSVLogger`: `epoch,<metrics...>,seconds`, appended and flushed
/// as each epoch ends, so a run that dies keeps every finished epoch (and a resumed one appends).
final class CSVLogger: TrainingObserver {
    let path: String
    private var file: UnsafeMutablePointer<FILE>?

    init(path: String) { self.path = path }

    deinit { if let file { fclose(file) } }

    func epochBegan(epoch: Int, epochs: Int, steps: Int) {}

    func stepEnded(step: Int, steps: Int, metrics: MetricSnapshot) {}

    func epochEnded(epoch: Int, epochs: Int, metrics: MetricSnapshot, seconds: Double) {
        if file == nil {
            let isNew = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int).map { $0 == 0 } ?? true
            file = fopen(path, "a")
            if isNew, let file { fputs((["epoch"] + metrics.names + ["seconds"]).joined(separator: ",") + "\n", file) }
        }
        guard let file else { return }   // checked writable before training; a later failure only loses the log
        let values = metrics.values.map { String(format: "%.6f", $0) }
        fputs((["\(epoch)"] + values + [String(format: "%.3f", seconds)]).joined(separator: ",") + "\n", file)
        fflush(file)
    }
}

/// Several observers as one.
final class ObserverGroup: TrainingObserver {
    let members: [TrainingObserver]
    init(_ members: [TrainingObserver]) { self.members = members }
    func epochBegan(epoch: Int, epochs: Int, steps: Int) { for m in members { m.epochBegan(epoch: epoch, epochs: epochs, steps: steps) } }
    func stepEnded(step: Int, steps: Int, metrics: MetricSnapshot) { for m in members { m.stepEnded(step: step, steps: steps, metrics: metrics) } }
    func epochEnded(epoch: Int, epochs: Int, metrics: MetricSnapshot, seconds: Double) {
        for m in members { m.epochEnded(epoch: epoch, epochs: epochs, metrics: metrics, seconds: seconds) }
    }
}
