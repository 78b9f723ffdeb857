/// A training run that cannot go on (a loss that became NaN or infinite, a bad setting):
/// the message says which phase, where, and what to try.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
