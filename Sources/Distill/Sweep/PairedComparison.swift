import Foundation

/// Distilled against scratch over the seeds both have: means and standard deviations of each, and
/// of the per-seed differences (distilled minus scratch twin), with the paired t statistic
/// `mean(d) / (sd(d) / sqrt(n))`. Standard deviations use n - 1; with one seed they are 0 and t is nil,
/// as it is when every difference is the same.
public struct PairedComparison: Sendable, Equatable {
    public var seeds: Int
    public var distilled: Spread
    public var scratch: Spread
    public var difference: Spread
    public var t: Double?

    public struct Spread: Sendable, Equatable {
        public var mean: Double
        public var standardDeviation: Double

        public init(_ values: [Double]) {
            mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
            let m = mean
            standardDeviation = values.count < 2 ? 0 : (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
        }
    }

    /// `pairs`: (distilled, scratch) accuracy of each seed.
    public init(pairs: [(distilled: Double, scratch: Double)]) {
        seeds = pairs.count
        distilled = Spread(pairs.map(\.distilled))
        scratch = Spread(pairs.map(\.scratch))
        difference = Spread(pairs.map { $0.distilled - $0.scratch })
        let standardError = difference.standardDeviation / Double(max(seeds, 1)).squareRoot()
        t = seeds > 1 && standardError > 0 ? difference.mean / standardError : nil
    }
}
