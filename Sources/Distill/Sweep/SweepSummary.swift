import Foundation

/// One stage's records as a person compares them: per train fraction and epoch count, the scratch
/// twins, and per alpha x temperature the distilled runs paired with them seed by seed.
public struct SweepSummary: Sendable {
    public struct Group: Sendable {
        public var trainFraction: Double
        public var epochs: Int
        /// Scratch accuracy per seed.
        public var scratch: [UInt64: Double]
        /// Per (alpha, temperature), the pairing over seeds that have both runs.
        public var settings: [(alpha: Float, temperature: Float, comparison: PairedComparison)]
    }

    public let stage: SweepRun.Stage
    public let groups: [Group]

    /// `records` of any stage (others are ignored). Groups go from the largest train fraction down, fewer epochs first;
    /// settings by alpha, then temperature.
    public init(records: [SweepRecord], stage: SweepRun.Stage) {
        self.stage = stage
        let mine = records.filter { $0.run.stage == stage }
        var keys: [SweepSetting] = []   // (fraction, epochs) with nil alpha/T
        for record in mine {
            let key = SweepSetting(trainFraction: record.run.trainFraction, epochs: record.run.epochs, alpha: nil, temperature: nil)
            if !keys.contains(key) { keys.append(key) }
        }
        keys.sort { $0.trainFraction != $1.trainFraction ? $0.trainFraction > $1.trainFraction : $0.epochs < $1.epochs }
        groups = keys.map { key in
            let inGroup = mine.filter { $0.run.trainFraction == key.trainFraction && $0.run.epochs == key.epochs }
            var scratch: [UInt64: Double] = [:]
            for record in inGroup where record.run.kind == .scratch { scratch[record.run.seed] = record.outcome.accuracy }
            var pairs: [(Float, Float)] = []
            for record in inGroup {
                if case let .distilled(alpha, temperature) = record.run.kind, !pairs.contains(where: { $0 == (alpha, temperature) }) {
                    pairs.append((alpha, temperature))
                }
            }
            pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            let settings = pairs.map { alpha, temperature in
                let paired = inGroup.compactMap { record -> (distilled: Double, scratch: Double)? in
                    guard record.run.kind == .distilled(alpha: alpha, temperature: temperature),
                          let twin = scratch[record.run.seed] else { return nil }
                    return (record.outcome.accuracy, twin)
                }
                return (alpha, temperature, PairedComparison(pairs: paired))
            }
            return Group(trainFraction: key.trainFraction, epochs: key.epochs, scratch: scratch, settings: settings)
        }
    }

    /// Per train fraction, the setting whose distilled students gained most on their twins (mean
    /// paired difference; ties to the larger t), over every epoch count and alpha x temperature.
    public func best() -> [(setting: SweepSetting, comparison: PairedComparison)] {
        var fractions: [Double] = []
        for group in groups where !fractions.contains(group.trainFraction) { fractions.append(group.trainFraction) }
        return fractions.compactMap { fraction in
            let candidates = groups.filter { $0.trainFraction == fraction }.flatMap { group in
                group.settings.filter { $0.comparison.seeds > 0 }.map {
                    (setting: SweepSetting(trainFraction: fraction, epochs: group.epochs, alpha: $0.alpha, temperature: $0.temperature),
                     comparison: $0.comparison)
                }
            }
            return candidates.max { a, b in
                a.comparison.difference.mean != b.comparison.difference.mean
                    ? a.comparison.difference.mean < b.comparison.difference.mean
                    : (a.comparison.t ?? -.infinity) < (b.comparison.t ?? -.infinity)
            }
        }
    }
}
