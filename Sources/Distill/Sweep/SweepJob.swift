import Collective
import Datasets
import Foundation
import NN

/// A sweep's orchestration: the search runs not yet in its CSV, spread over the ranks by whole run;
/// the best setting per train fraction (and loss) chosen on validation; its confirmation on fresh seeds.
/// With several losses, each loss's best setting per fraction is confirmed, against the same scratch twins.
/// Every rank reads the CSV and the ranks check they read the same runs (none is trained twice);
/// rank 0 appends each round's records. What it reports goes through the closures (rank 0 prints).
public struct SweepJob {
    public let grid: SweepGrid
    public let confirmSeeds: [UInt64]
    public let trainer: SweepTrainer
    public let communicator: Communicator
    public let csvPath: String
    /// What makes two sweeps' runs comparable (`Fingerprint.sweep`); rows of another sweep are refused.
    public let fingerprint: String
    public var log: (String) -> Void = { _ in }
    public var stopRequested: () -> Bool = { false }
    /// Told each stage's size (name, runs, already done, cost of the rest); returns what is told each round's records.
    public var progress: (String, Int, Int, Double) -> ([SweepRecord]) -> Void = { _, _, _, _ in { _ in } }

    public init(grid: SweepGrid, confirmSeeds: [UInt64], trainer: SweepTrainer, communicator: Communicator, csvPath: String, fingerprint: String) {
        (self.grid, self.confirmSeeds, self.trainer, self.communicator) = (grid, confirmSeeds, trainer, communicator)
        (self.csvPath, self.fingerprint) = (csvPath, fingerprint)
    }

    public struct Result {
        public let search: SweepSummary, confirmed: SweepSummary
        /// Runs this invocation trained, and the recorded ones outside the current lists.
        public let trained: Int, outside: Int
    }

    /// With `--augment`: the teacher's logits of every seed's views (a table per seed, train fraction and epoch), computed
    /// before any run by all ranks together (data-parallel), or found from an earlier invocation; the runs, spread over
    /// the ranks, then only read them.
    private func prepareViews(teacher: Sequential, directory: String) throws {
        let epochs = grid.epochs.max() ?? 1
        for fraction in grid.trainFractions {
            for seed in grid.seeds + confirmSeeds {
                let run = SweepRun(stage: .search, kind: .scratch, trainFraction: fraction, epochs: epochs, seed: seed)
                let cache = ViewCache(directory: directory) { log("seed \(seed), train fraction \(fraction): \($0)") }
                _ = try trainer.recipe(for: run, communicator: communicator).recipe.viewLogits(of: RunningTeacher(teacher), cache: cache)
            }
        }
    }

    public func run() throws -> Result {
        let existing = try SweepLog.read(csvPath, sweep: fingerprint)
        var recorded = existing.records
        var hash = ContentHash()
        for record in recorded { hash.mix(SweepLog.row(record, sweep: fingerprint)) }
        try communicator.checkAgreement([("the finished runs in \(csvPath)", hash.value)])
        let writer = communicator.isRoot ? try SweepLogWriter(path: csvPath, sweep: fingerprint, existing: existing) : nil
        if existing.exists { log("continuing \(csvPath): \(recorded.count) run\(recorded.count == 1 ? "" : "s") already done") }
        if existing.legacy, writer != nil { log("rewrote \(csvPath) with the method, agreement and ece columns (its runs read as kd)") }

        if let views = trainer.views { try prepareViews(teacher: views.teacher, directory: views.cache.directory) }
        var trained = 0
        /// Trains the stage's runs not yet in the CSV; true when a stop was requested as its last round ended.
        /// `stopped`: a stop arrived as the previous stage ended, so this one must not start.
        func stage(_ name: String, _ runs: [SweepRun], stopped: Bool = false) throws -> Bool {
            let done = Set(recorded.map(\.run))
            let pending = runs.filter { !done.contains($0) }
            if stopped, !pending.isEmpty { throw SweepStopped(remaining: pending.count) }
            trained += pending.count
            let told = progress(name, runs.count, runs.count - pending.count, pending.map(\.cost).reduce(0, +))
            return try trainAcrossRanks(pending, communicator: communicator, stopRequested: stopRequested,
                                        train: trainer.outcome(of:)) { records in
                recorded += records
                try writer?.append(records)
                told(records)
            }
        }
        // Rows of the CSV outside the current lists (an earlier, wider sweep) are kept but left out of the choice and the report.
        let searchRuns = grid.searchRuns
        let stopped = try stage("search", searchRuns)
        let inSearch = Set(searchRuns)
        let search = SweepSummary(records: recorded.filter { inSearch.contains($0.run) }, stage: .search, losses: grid.losses)
        let best = search.best()
        for (setting, comparison) in best {
            log("best on validation at train fraction \(setting.trainFraction): \(SweepMarkdown.describe(setting)), "
                + "difference \(SweepMarkdown.signed(comparison.difference.mean)) points, t \(SweepMarkdown.t(comparison))")
        }
        let confirmRuns = SweepGrid.confirmRuns(best.map(\.setting), seeds: confirmSeeds)
        _ = try stage("confirm", confirmRuns, stopped: stopped)
        let inConfirm = Set(confirmRuns)
        let confirmed = SweepSummary(records: recorded.filter { inConfirm.contains($0.run) }, stage: .confirm, losses: grid.losses)
        let outside = recorded.count - recorded.filter { inSearch.contains($0.run) || inConfirm.contains($0.run) }.count
        return Result(search: search, confirmed: confirmed, trained: trained, outside: outside)
    }
}
