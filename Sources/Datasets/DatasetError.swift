/// A data file that could not be read, or whose content is not what was expected.
///
/// `description` is one line: the file, then what was found and what was expected, e.g.
/// `data/mnist/train-labels-idx1-ubyte.gz: truncated data: expected 60000 label bytes after the 8-byte header, found 1234`.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the problem is in (for a missing file, the first name looked for).
    public let path: String
    /// What was found and what was expected.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
