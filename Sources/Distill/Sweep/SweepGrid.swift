import Foundation

/// The lists a sweep crosses, and the runs they make: for every train fraction, epoch count and
/// seed, one scratch twin and, per loss, one distilled run per alpha x temperature (a loss that takes
/// the KD mix) or one (a loss with its own parameters).
public struct SweepGrid: Sendable {
    public var alphas: [Float]
    public var temperatures: [Float]
    public var epochs: [Int]
    public var seeds: [UInt64]
    public var trainFractions: [Double]
    /// Canonical `--loss` specifications (`LossRegistry`), in the order given.
    public var losses: [String]

    public init(alphas: [Float], temperatures: [Float], epochs: [Int], seeds: [UInt64], trainFractions: [Double],
                losses: [String] = [LossRegistry.defaultName]) {
        (self.alphas, self.temperatures, self.epochs, self.seeds, self.trainFractions) = (alphas, temperatures, epochs, seeds, trainFractions)
        self.losses = losses
    }

    /// The lists as the sweep's flags spell them (`--alpha 0.1,0.5`, `--loss kd,dkd:beta=4`): each value's range is checked
    /// as for a single run's flag, with the same message; the error names the flag and the item. Losses are compared
    /// in canonical form, so `kd` and `kd:standardize=off` are the same one, given twice.
    public init(parsingAlphas alphas: String, temperatures: String, epochs: String, seeds: String, trainFractions: String,
                losses: String = LossRegistry.defaultName) throws {
        let alphaList: [Float] = try parseList(alphas, flag: "--alpha", expected: "a number in [0, 1]", { DecimalNumber.parse($0) })
        let temperatureList: [Float] = try parseList(temperatures, flag: "--temperature",
                                                     expected: "a number in (0, \(Int(SettingRanges.temperatureLimit))]", { DecimalNumber.parse($0) })
        for alpha in alphaList { try SettingRanges.alpha(alpha) }
        for temperature in temperatureList { try SettingRanges.temperature(temperature) }
        self.init(alphas: alphaList, temperatures: temperatureList,
                  epochs: try parseList(epochs, flag: "--student-epochs", expected: "a whole number of epochs in 1...100000", Int.init,
                                        check: { (1...100_000).contains($0) }),
                  seeds: try SweepGrid.seeds(seeds, flag: "--seeds"),
                  trainFractions: try parseList(trainFractions, flag: "--train-fraction", expected: "a number in (0, 1]",
                                                { DecimalNumber.parse($0) }, check: { $0 > 0 && $0 <= 1 }),
                  losses: try SweepGrid.losses(losses))
    }

    /// A comma-separated list of `--loss` specifications, each resolved to its canonical form; none repeated.
    public static func losses(_ text: String) throws -> [String] {
        var canonical: [String] = []
        for item in try parseList(text, flag: "--loss", expected: "a loss", { $0 }) {
            let resolved = try LossRegistry.resolve(item).canonical
            guard !canonical.contains(resolved) else { throw TrainingError("--loss: \(item) is \(resolved), which appears twice") }
            canonical.append(resolved)
        }
        return canonical
    }

    /// Whether `loss` is crossed with alpha x T (`LossKind.usesMix`); a loss not registered (a grid made in code) is taken as KD's kind.
    private static func usesMix(_ loss: String) -> Bool { (try? LossRegistry.usesMix(loss)) ?? true }

    /// The distilled methods of one fraction, epoch count and seed: each loss with every alpha x T, or alone.
    public var methods: [SweepMethod] {
        losses.flatMap { loss -> [SweepMethod] in
            guard Self.usesMix(loss) else { return [SweepMethod(loss: loss, alpha: nil, temperature: nil)] }
            return alphas.flatMap { alpha in temperatures.map { SweepMethod(loss: loss, alpha: alpha, temperature: $0) } }
        }
    }

    /// A comma-separated list of seeds (unsigned integers, none repeated).
    public static func seeds(_ text: String, flag: String) throws -> [UInt64] {
        try parseList(text, flag: flag, expected: "an unsigned integer", UInt64.init)
    }

    /// How many runs the search stage has.
    public var searchRunCount: Double {
        let methodCount = losses.map { Self.usesMix($0) ? Double(alphas.count * temperatures.count) : 1 }.reduce(0, +)
        return Double(trainFractions.count) * Double(epochs.count) * Double(seeds.count) * (1 + methodCount)
    }

    /// The search stage's runs, evaluated on the validation split.
    public var searchRuns: [SweepRun] {
        var runs: [SweepRun] = []
        let methods = methods
        for fraction in trainFractions {
            for epochs in epochs {
                for seed in seeds {
                    runs.append(SweepRun(stage: .search, kind: .scratch, trainFraction: fraction, epochs: epochs, seed: seed))
                    for method in methods {
                        runs.append(SweepRun(stage: .search, kind: .distilled(method), trainFraction: fraction, epochs: epochs, seed: seed))
                    }
                }
            }
        }
        return runs
    }

    /// The confirmation stage's runs: each chosen setting and its scratch twins on `seeds` (a twin shared by
    /// settings of the same fraction and epochs once), evaluated on the test set.
    public static func confirmRuns(_ settings: [SweepSetting], seeds: [UInt64]) -> [SweepRun] {
        var runs: [SweepRun] = []
        for setting in settings {
            guard let method = setting.method else { continue }
            for seed in seeds {
                let twin = SweepRun(stage: .confirm, kind: .scratch, trainFraction: setting.trainFraction, epochs: setting.epochs, seed: seed)
                if !runs.contains(twin) { runs.append(twin) }
                runs.append(SweepRun(stage: .confirm, kind: .distilled(method), trainFraction: setting.trainFraction, epochs: setting.epochs,
                                     seed: seed))
            }
        }
        return runs
    }
}

/// Parses a comma-separated list of `T` (`0.1,0.5,0.9`) for the sweep's list flags: every item must
/// parse and pass `check`, and none may repeat; the error names the flag, the item and what was expected.
public func parseList<T: Hashable>(_ text: String, flag: String, expected: String, _ parse: (String) -> T?,
                                   check: (T) -> Bool = { _ in true }) throws -> [T] {
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard text.utf8.count <= 10_000 else { throw TrainingError("\(flag): at most 10000 characters, got \(text.utf8.count)") }
    guard items.count <= 1000 else { throw TrainingError("\(flag): at most 1000 values, got \(items.count)") }
    var values: [T] = []
    for item in items {
        guard !item.isEmpty else { throw TrainingError("\(flag) '\(text.prefix(80))': an empty item; expected \(expected), separated by commas") }
        guard let value = parse(item), check(value) else { throw TrainingError("\(flag): '\(item.prefix(40))' is not \(expected)") }
        guard !values.contains(value) else { throw TrainingError("\(flag): \(item) appears twice") }
        values.append(value)
    }
    return values
}
