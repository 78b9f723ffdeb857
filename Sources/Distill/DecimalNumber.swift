/// Reads a number as a user writes one on a command line: decimal digits with an optional
/// exponent (`0.001`, `1e-3`, `300`). Swift's own parser also takes hexadecimal (`0x10` is 16),
/// `inf` and `nan`; those are refused, and so is a value too large for the type (Float32 for the
/// training settings), so a flag never turns into infinity or an unintended number.
public enum DecimalNumber {
    public static func parse<T: BinaryFloatingPoint & LosslessStringConvertible>(_ text: String, as _: T.Type = T.self) -> T? {
        let allowed = Set("0123456789.eE+-")
        guard !text.isEmpty, text.allSatisfy(allowed.contains), let value = T(text), value.isFinite else { return nil }
        return value
    }
}
