/// A checkpoint file that cannot be read or written, with a one-line reason that
/// names the file and says what was found against what was expected.
public struct CheckpointError: Error, CustomStringConvertible {
    /// The file being read or written.
    public let path: String
    /// What went wrong, without the path.
    public let message: String

    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
