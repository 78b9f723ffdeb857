/// One training run of a sweep: a student trained from `seed` on `trainFraction` of the training
/// pool for `epochs` epochs, either distilled by a method or as the scratch twin that every distilled
/// run of the same seed, fraction and epochs (of every method) is compared with.
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
        case distilled(SweepMethod)
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

    /// The method of a distilled run; nil for a scratch twin.
    public var method: SweepMethod? {
        if case let .distilled(method) = kind { return method }
        return nil
    }

    /// The setting a run belongs to (a scratch twin has no method).
    public var setting: SweepSetting { SweepSetting(trainFraction: trainFraction, epochs: epochs, method: method) }

    /// The scratch run this run is compared with.
    public var twin: SweepRun { SweepRun(stage: stage, kind: .scratch, trainFraction: trainFraction, epochs: epochs, seed: seed) }

    /// A short label for progress lines: `distilled alpha 0.5 T 4, fraction 0.1, 3 epochs, seed 2`.
    public var label: String {
        "\(method.map { "distilled \($0)" } ?? "scratch"), fraction \(trainFraction), \(epochs) epoch\(epochs == 1 ? "" : "s"), seed \(seed)"
    }
}

/// How a distilled run learns from its teacher: a loss (`--loss`, canonical) and, for a loss that
/// takes the KD mix (`kd`), its alpha and temperature; nil for a loss with its own (`dkd`, `dist`).
public struct SweepMethod: Hashable, Sendable, CustomStringConvertible {
    public var loss: String
    public var alpha: Float?
    public var temperature: Float?

    public init(loss: String = LossRegistry.defaultName, alpha: Float?, temperature: Float?) {
        (self.loss, self.alpha, self.temperature) = (loss, alpha, temperature)
    }

    /// Hinton's KD at `alpha` and `temperature`.
    public static func kd(alpha: Float, temperature: Float) -> SweepMethod { SweepMethod(alpha: alpha, temperature: temperature) }

    /// `alpha 0.5 T 4` for the default loss, `kd:standardize alpha 0.5 T 4`, `dkd`.
    public var description: String {
        let mix = alpha.map { a in "alpha \(a) T \(temperature.map { "\($0)" } ?? "-")" }
        if loss == LossRegistry.defaultName, let mix { return mix }
        return [loss, mix].compactMap { $0 }.joined(separator: " ")
    }

    /// Ordered as the report lists them: by the loss's place in `losses`, then alpha, then T.
    public static func order(_ losses: [String]) -> (SweepMethod, SweepMethod) -> Bool {
        { a, b in
            let (i, j) = (losses.firstIndex(of: a.loss) ?? losses.count, losses.firstIndex(of: b.loss) ?? losses.count)
            if i != j { return i < j }
            if a.loss != b.loss { return a.loss < b.loss }
            if a.alpha != b.alpha { return (a.alpha ?? -1) < (b.alpha ?? -1) }
            return (a.temperature ?? -1) < (b.temperature ?? -1)
        }
    }
}

/// Train fraction, epochs and (for distillation) the method: what a sweep compares.
public struct SweepSetting: Hashable, Sendable {
    public var trainFraction: Double
    public var epochs: Int
    public var method: SweepMethod?

    public init(trainFraction: Double, epochs: Int, method: SweepMethod?) {
        (self.trainFraction, self.epochs, self.method) = (trainFraction, epochs, method)
    }
}
