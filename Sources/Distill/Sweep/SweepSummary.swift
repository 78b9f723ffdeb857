import Foundation

/// One stage's records as a person compares them: per train fraction and epoch count, the scratch
/// twins, and per method (loss, alpha, temperature) the distilled runs paired with them seed by seed.
public struct SweepSummary: Sendable {
    /// One method's runs in a group.
    public struct Row: Sendable {
        public var method: SweepMethod
        /// Accuracy per seed.
        public var distilled: [UInt64: Double]
        /// Against the scratch twins, over seeds that have both runs.
        public var comparison: PairedComparison
        /// Agreement with the teacher and calibration error over the runs that measured them (nil: none did).
        public var agreement: PairedComparison.Spread?
        public var calibrationError: PairedComparison.Spread?
    }

    public struct Group: Sendable {
        public var trainFraction: Double
        public var epochs: Int
        /// Scratch accuracy per seed.
        public var scratch: [UInt64: Double]
        public var scratchAgreement: PairedComparison.Spread?
        public var scratchCalibrationError: PairedComparison.Spread?
        /// By loss (in the sweep's order), then alpha, then temperature.
        public var settings: [Row]
    }

    public let stage: SweepRun.Stage
    public let groups: [Group]
    /// The losses in the sweep's order (`--loss`), for ordering and for the comparison with KD.
    public let losses: [String]

    /// `records` of any stage (others are ignored). Groups go from the largest train fraction down, fewer epochs first.
    /// `losses`: the sweep's order of losses; others follow by name.
    public init(records: [SweepRecord], stage: SweepRun.Stage, losses: [String] = [LossRegistry.defaultName]) {
        (self.stage, self.losses) = (stage, losses)
        let mine = records.filter { $0.run.stage == stage }
        var keys: [SweepSetting] = []   // (fraction, epochs) without a method
        for record in mine {
            let key = SweepSetting(trainFraction: record.run.trainFraction, epochs: record.run.epochs, method: nil)
            if !keys.contains(key) { keys.append(key) }
        }
        keys.sort { $0.trainFraction != $1.trainFraction ? $0.trainFraction > $1.trainFraction : $0.epochs < $1.epochs }
        groups = keys.map { key in
            let inGroup = mine.filter { $0.run.trainFraction == key.trainFraction && $0.run.epochs == key.epochs }
            let scratchRuns = inGroup.filter { $0.run.kind == .scratch }
            var scratch: [UInt64: Double] = [:]
            for record in scratchRuns { scratch[record.run.seed] = record.outcome.accuracy }
            var methods: [SweepMethod] = []
            for method in inGroup.compactMap(\.run.method) where !methods.contains(method) { methods.append(method) }
            methods.sort(by: SweepMethod.order(losses))
            let settings = methods.map { method in
                let runs = inGroup.filter { $0.run.method == method }
                var distilled: [UInt64: Double] = [:]
                for record in runs { distilled[record.run.seed] = record.outcome.accuracy }
                return Row(method: method, distilled: distilled, comparison: PairedComparison(distilled, against: scratch),
                           agreement: SweepSummary.spread(runs.compactMap(\.outcome.agreement)),
                           calibrationError: SweepSummary.spread(runs.compactMap(\.outcome.calibrationError)))
            }
            return Group(trainFraction: key.trainFraction, epochs: key.epochs, scratch: scratch,
                         scratchAgreement: SweepSummary.spread(scratchRuns.compactMap(\.outcome.agreement)),
                         scratchCalibrationError: SweepSummary.spread(scratchRuns.compactMap(\.outcome.calibrationError)), settings: settings)
        }
    }

    private static func spread(_ values: [Double]) -> PairedComparison.Spread? { values.isEmpty ? nil : PairedComparison.Spread(values) }

    /// Per train fraction and loss, the setting whose distilled students gained most on their twins (mean
    /// paired difference; ties to the larger t), over every epoch count and alpha x temperature.
    public func best() -> [(setting: SweepSetting, comparison: PairedComparison)] {
        ranking().flatMap { $0.entries.map { (setting: $0.setting, comparison: $0.row.comparison) } }
            .sorted { a, b in   // by fraction (largest first), then by the loss's place
                a.setting.trainFraction != b.setting.trainFraction ? a.setting.trainFraction > b.setting.trainFraction
                    : SweepMethod.order(losses)(a.setting.method!, b.setting.method!)
            }
    }

    /// One line of `ranking()`: a loss's best setting, against scratch and against KD's best (paired by seed).
    public struct Entry: Sendable {
        public var setting: SweepSetting
        public var row: Row
        /// nil for KD itself, or without KD in the sweep.
        public var againstKD: PairedComparison?
    }

    /// Per train fraction (largest first), each loss's best setting (as `best()`), ranked by mean difference to scratch.
    public func ranking() -> [(trainFraction: Double, entries: [Entry])] {
        var fractions: [Double] = []
        for group in groups where !fractions.contains(group.trainFraction) { fractions.append(group.trainFraction) }
        return fractions.map { fraction in
            let candidates = groups.filter { $0.trainFraction == fraction }.flatMap { group in
                group.settings.filter { $0.comparison.seeds > 0 }.map {
                    Entry(setting: SweepSetting(trainFraction: fraction, epochs: group.epochs, method: $0.method), row: $0, againstKD: nil)
                }
            }
            var bestPerLoss: [String: Entry] = [:]
            for candidate in candidates {
                let loss = candidate.row.method.loss
                if let held = bestPerLoss[loss], !SweepSummary.better(candidate.row.comparison, than: held.row.comparison) { continue }
                bestPerLoss[loss] = candidate
            }
            let kd = bestPerLoss[LossRegistry.defaultName]
            var entries = Array(bestPerLoss.values)
            for i in entries.indices where entries[i].row.method.loss != LossRegistry.defaultName {
                entries[i].againstKD = kd.map { PairedComparison(entries[i].row.distilled, against: $0.row.distilled) }
            }
            entries.sort { a, b in
                a.row.comparison.difference.mean != b.row.comparison.difference.mean
                    ? a.row.comparison.difference.mean > b.row.comparison.difference.mean
                    : SweepMethod.order(losses)(a.row.method, b.row.method)
            }
            return (fraction, entries)
        }
    }

    /// A larger mean paired difference; on a tie, the larger t.
    static func better(_ a: PairedComparison, than b: PairedComparison) -> Bool {
        a.difference.mean != b.difference.mean ? a.difference.mean > b.difference.mean : (a.t ?? -.infinity) > (b.t ?? -.infinity)
    }
}

extension PairedComparison {
    /// `distilled` against `reference` (accuracy per seed), over the seeds both have, in seed order.
    public init(_ distilled: [UInt64: Double], against reference: [UInt64: Double]) {
        self.init(pairs: distilled.keys.sorted().compactMap { seed in reference[seed].map { (distilled[seed]!, $0) } })
    }
}
