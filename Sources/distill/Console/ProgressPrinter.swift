import Distill
import Foundation

/// Keras-style progress: on a terminal, a per-epoch bar redrawn in place with the step count,
/// elapsed time, and the running loss and accuracy; otherwise one plain line per epoch.
final class ProgressPrinter: TrainingObserver {
    let phase: String
    let bar: Bool
    private var epochStart = Date()
    private var lastDraw = Date.distantPast

    init(phase: String, bar: Bool) {
        self.phase = phase
        self.bar = bar
    }

    func epochBegan(epoch: Int, epochs: Int, steps: Int) {
        epochStart = Date()
        lastDraw = .distantPast
        if bar { print("\(phase) - epoch \(epoch)/\(epochs)") }
    }

    func stepEnded(step: Int, steps: Int, metrics: MetricSnapshot) {
        guard bar else { return }
        let now = Date()
        guard step == steps || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let width = 30
        let done = steps > 0 ? width * step / steps : width
        let arrow = done < width ? ">" : ""
        let line = String(repeating: "=", count: max(done - arrow.count, 0)) + arrow
            + String(repeating: ".", count: width - max(done, arrow.count))
        let digits = String(steps).count
        let counter = String(repeating: " ", count: digits - String(step).count) + "\(step)/\(steps)"
        let elapsed = now.timeIntervalSince(epochStart)
        let perStep = String(format: "%.0fms/step", 1000 * elapsed / Double(max(step, 1)))
        print("\r\(counter) [\(line)] - \(Self.duration(elapsed)) \(perStep)\(Self.format(metrics))\u{1B}[K", terminator: "")
        fflush(stdout)
    }

    func epochEnded(epoch: Int, epochs: Int, metrics: MetricSnapshot, seconds: Double) {
        if bar {
            print("")
        } else {
            print("\(phase) - epoch \(epoch)/\(epochs) - \(String(format: "%.1f", seconds))s\(Self.format(metrics))")
        }
        fflush(stdout)
    }

    static func format(_ metrics: MetricSnapshot) -> String {
        zip(metrics.names, metrics.values).map { " - \($0): \(String(format: "%.4f", $1))" }.joined()
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.0fs", seconds) : String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
    }
}
