import ArgumentParser
import Distill

/// The `transform` of a number flag: decimal notation only (see `DecimalNumber`), e.g. `--alpha 0.1`.
func decimal<T: BinaryFloatingPoint & LosslessStringConvertible>(_ text: String) throws -> T {
    guard let value = DecimalNumber.parse(text, as: T.self) else {
        throw ValidationError("'\(text)' is not a decimal number of the range of \(T.self) (e.g. 0.001, 1e-3 or 300; no hexadecimal, inf or nan)")
    }
    return value
}
