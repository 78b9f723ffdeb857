/// The ranges of the training settings, each checked in one place: the command line's flags, the
/// sweep's lists and `Distiller.compile` all call these, so a value is refused with the same line
/// wherever it comes from. `name` is the flag the value came from.
public enum SettingRanges {
    public static let batchSizeLimit = 1 << 20
    /// Above 1000, softmax(z / T) is uniform to Float32 precision while T^2 scales the loss by more
    /// than 10^6: nothing is distilled, so a larger value is refused as a mistake.
    public static let temperatureLimit: Float = 1000

    /// `--validation-fraction` in [0, 0.5], `--patience` in 0...100000, and `--restore-best` and
    /// `--patience` only with a split to watch (without one they would silently do nothing).
    public static func validation(fraction: Double, restoreBest: Bool, patience: Int?) throws {
        guard fraction >= 0, fraction <= 0.5 else { throw TrainingError("--validation-fraction must be in [0, 0.5], got \(fraction)") }
        if let patience, !(0...100_000).contains(patience) { throw TrainingError("--patience must be in 0...100000, got \(patience)") }
        for (flag, given) in [("--restore-best", restoreBest), ("--patience", patience != nil)] where given && fraction == 0 {
            throw TrainingError("\(flag) needs a validation split to watch: give --validation-fraction, e.g. 0.1")
        }
    }

    public static func alpha(_ value: Float, name: String = "--alpha") throws {
        guard (0...1).contains(value) else { throw TrainingError("\(name) must be in [0, 1], got \(value)") }
    }

    public static func temperature(_ value: Float, name: String = "--temperature") throws {
        guard value > 0, value <= temperatureLimit else {
            throw TrainingError("\(name) must be in (0, \(Int(temperatureLimit))], got \(value)")
        }
    }

    public static func learningRate(_ value: Float, name: String = "--learning-rate") throws {
        guard value > 0, value.isFinite, value <= 10 else { throw TrainingError("\(name) must be a positive number up to 10, got \(value)") }
    }

    public static func batchSize(_ value: Int, name: String = "--batch-size") throws {
        guard value > 0 else { throw TrainingError("\(name) must be positive, got \(value)") }
        guard value <= batchSizeLimit else { throw TrainingError("\(name) must be at most \(batchSizeLimit), got \(value)") }
    }
}
