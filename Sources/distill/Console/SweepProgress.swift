import Distill
import Foundation

/// One line per finished run of a sweep stage: how many are done, the run and its accuracy, and the
/// time left, estimated from this process's pace so far (runs weighted by epochs x train fraction).
final class SweepProgress {
    let stage: String
    let total: Int
    private var done: Int
    private var remainingCost: Double
    private var spentCost = 0.0
    private let started = Date()
    private let log: (String) -> Void

    init(stage: String, total: Int, done: Int, pendingCost: Double, log: @escaping (String) -> Void) {
        (self.stage, self.total, self.done, self.remainingCost, self.log) = (stage, total, done, pendingCost, log)
        if done < total {
            log("\(stage): \(total) runs" + (done > 0 ? ", \(done) already done, \(total - done) to train" : ""))
        }
    }

    /// One round's records: the runs trained side by side, so the pace counts them together.
    func finished(_ records: [SweepRecord]) {
        let cost = records.map(\.run.cost).reduce(0, +)
        spentCost += cost
        remainingCost -= cost
        let left = spentCost > 0 ? Date().timeIntervalSince(started) / spentCost * max(remainingCost, 0) : 0
        for record in records {
            done += 1
            log("\(stage) [\(done)/\(total)] \(record.run.label): \(record.run.stage.evaluatedOn) \(percent(record.outcome.accuracy)) "
                + "(rank \(record.rank), \(fixed(record.outcome.seconds, 1)) s); about \(duration(left)) left")
        }
    }

    private func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600) h \(s % 3600 / 60) min" : s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
    }
}
