/// One training run of a sweep: a student trained from `seed` on `trainFraction` of the training
/// pool for `epochs` epochs, either distilled (alpha, temperature) or as the scratch twin that
/// every distilled run of the same seed, fraction and epochs is compared with.
public struct SweepRun: Hashable, Sendable {
    /// `search` runs are evaluated on the validation split (settings are chosen there);
    /// `confirm` runs, on fresh seeds, on the test set.
    public enum Stage: String, Sendable, CaseIterable {
        case search, confirm

        /// The data a stage's runs are evaluated on (the CSV's `evaluated_on`).
        public var evaluatedOn: String { self == .search ? "validation" : "test" }
    }

    public enum Kind: Hashable, Sendable {
        case scratch
        case distilled(alpha: Float, temperature: Float)
    }

    public var stage: Stage
    public var kind: Kind
    public var trainFraction: Double
    public var epochs: Int
    public var seed: UInt64

    public init(stage: Stage, kind: Kind, trainFraction: Double, epochs: Int, seed: UInt64) {
        (self.stage, self.kind, self.trainFraction, self.epochs, self.seed) = (stage, kind, trainFraction, epochs, seed)
    }

    /// Relative cost, for giving each round runs of about the same length.
    public var cost: Double { Double(epochs) * trainFraction }

    /// The setting a run belongs to (a scratch twin has none of its own: alpha and T are nil).
    public var setting: SweepSetting {
        switch kind {
        case .scratch: SweepSetting(trainFraction: trainFraction, epochs: epochs, alpha: nil, temperature: nil)
        case let .distilled(alpha, temperature):
            SweepSetting(trainFraction: trainFraction, epochs: epochs, alpha: alpha, temperature: temperature)
        }
    }

    /// The scratch run this run is compared with.
    public var twin: SweepRun { SweepRun(stage: stage, kind: .scratch, trainFraction: trainFraction, epochs: epochs, seed: seed) }

    /// A short label for progress lines: `distilled alpha 0.5 T 4, fraction 0.1, 3 epochs, seed 2`.
    public var label: String {
        let common = "fraction \(trainFraction), \(epochs) epoch\(epochs == 1 ? "" : "s"), seed \(seed)"
        switch kind {
        case .scratch: return "scratch, \(common)"
        case let .distilled(alpha, temperature): return "distilled alpha \(alpha) T \(temperature), \(common)"
        }
    }
}

/// Train fraction, epochs and (for distillation) alpha and temperature: what a sweep compares.
public struct SweepSetting: Hashable, Sendable {
    public var trainFraction: Double
    public var epochs: Int
    public var alpha: Float?
    public var temperature: Float?

    public init(trainFraction: Double, epochs: Int, alpha: Float?, temperature: Float?) {
        (self.trainFraction, self.epochs, self.alpha, self.temperature) = (trainFraction, epochs, alpha, temperature)
    }
}
