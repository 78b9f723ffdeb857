/// The command line every rank of a job must share, as agreement items: the subcommand, then each
/// flag with its values. Flags decide which collectives a rank takes (`--run-teacher`,
/// `--train-fraction`, another subcommand, `--single-process`), so ranks launched with different
/// ones (an MPMD launch, a per-rank wrapper) are stopped at start-up with the difference named,
/// instead of hanging or training different things together.
///
/// Numbers compare by value at full (Double) precision, whatever their spelling: `1e-3` and `0.001`
/// agree, `0.0010000001` does not, even where both round to the same Float32.
public enum CommandLineAgreement {
    /// Flags that may differ between ranks: they change neither the collectives nor the result.
    public static let perRankFlags: Set<String> = ["--threads", "--plain"]

    /// `arguments` without the executable; `defaultCommand` is the subcommand run when none is named.
    public static func items(_ arguments: [String], defaultCommand: String) -> [(name: String, hash: UInt64)] {
        var rest = arguments[...]
        var command = defaultCommand
        if let first = rest.first, !first.hasPrefix("-") {
            command = first
            rest = rest.dropFirst()
        }
        var flags: [(flag: String, values: [String])] = [("", [])]   // entry 0: positional arguments
        for token in rest {
            if token.hasPrefix("--") {
                let parts = token.split(separator: "=", maxSplits: 1).map(String.init)
                flags.append((parts[0], parts.count > 1 ? [parts[1]] : []))
            } else {
                flags[flags.count - 1].values.append(token)
            }
        }
        // One item per flag name, values in the order given (a repeated flag lists them all).
        var byFlag: [String: [String]] = [:]
        for (flag, values) in flags.dropFirst() { byFlag[flag, default: []] += values.map(canonical) }
        var items = ["the command \(command)"]
        if !flags[0].values.isEmpty { items.append("the arguments \(flags[0].values.joined(separator: " "))") }
        for flag in byFlag.keys.sorted() where !perRankFlags.contains(flag) {
            items.append(([flag] + byFlag[flag]!).joined(separator: " "))
        }
        return items.map { ($0, Fingerprint.text($0)) }
    }

    /// A number's canonical spelling (its exact value), anything else as given.
    static func canonical(_ value: String) -> String {
        if let integer = Int64(value) { return String(integer) }
        if let unsigned = UInt64(value) { return String(unsigned) }
        if let number: Double = DecimalNumber.parse(value) { return "\(number)" }
        return value
    }
}
