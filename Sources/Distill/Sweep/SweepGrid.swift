import Foundation

/// The lists a sweep crosses, and the runs they make: for every train fraction, epoch count and
/// seed, one scratch twin and one distilled run per alpha x temperature.
public struct SweepGrid: Sendable {
    public var alphas: [Float]
    public var temperatures: [Float]
    public var epochs: [Int]
    public var seeds: [UInt64]
    public var trainFractions: [Double]

    public init(alphas: [Float], temperatures: [Float], epochs: [Int], seeds: [UInt64], trainFractions: [Double]) {
        (self.alphas, self.temperatures, self.epochs, self.seeds, self.trainFractions) = (alphas, temperatures, epochs, seeds, trainFractions)
    }

    /// The lists as the sweep's flags spell them (`--alpha 0.1,0.5`): each value's range is checked as
    /// for a single run's flag, with the same message; the error names the flag and the item.
    public init(parsingAlphas alphas: String, temperatures: String, epochs: String, seeds: String, trainFractions: String) throws {
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
                                                { DecimalNumber.parse($0) }, check: { $0 > 0 && $0 <= 1 }))
    }

    /// A comma-separated list of seeds (unsigned integers, none repeated).
    public static func seeds(_ text: String, flag: String) throws -> [UInt64] {
        try parseList(text, flag: flag, expected: "an unsigned integer", UInt64.init)
    }

    /// How many runs the search stage has.
    public var searchRunCount: Double {
        Double(trainFractions.count) * Double(epochs.count) * Double(seeds.count) * Double(1 + alphas.count * temperatures.count)
    }

    /// The search stage's runs, evaluated on the validation split.
    public var searchRuns: [SweepRun] {
        var runs: [SweepRun] = []
        for fraction in trainFractions {
            for epochs in epochs {
                for seed in seeds {
                    runs.append(SweepRun(stage: .search, kind: .scratch, trainFraction: fraction, epochs: epochs, seed: seed))
                    for alpha in alphas {
                        for temperature in temperatures {
                            runs.append(SweepRun(stage: .search, kind: .distilled(alpha: alpha, temperature: temperature),
                                                 trainFraction: fraction, epochs: epochs, seed: seed))
                        }
                    }
                }
            }
        }
        return runs
    }

    /// The confirmation stage's runs: each chosen setting and its scratch twins on `seeds`, evaluated on the test set.
    public static func confirmRuns(_ settings: [SweepSetting], seeds: [UInt64]) -> [SweepRun] {
        settings.flatMap { setting -> [SweepRun] in
            guard let alpha = setting.alpha, let temperature = setting.temperature else { return [] }
            return seeds.flatMap { seed in
                [SweepRun(stage: .confirm, kind: .scratch, trainFraction: setting.trainFraction, epochs: setting.epochs, seed: seed),
                 SweepRun(stage: .confirm, kind: .distilled(alpha: alpha, temperature: temperature),
                          trainFraction: setting.trainFraction, epochs: setting.epochs, seed: seed)]
            }
        }
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
