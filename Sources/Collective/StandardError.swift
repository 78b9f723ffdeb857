import Foundation

/// The one place the library writes: the last words of `abort(message:)`.
enum StandardError {
    /// Flushes pending standard output (so it is not lost or reordered when the process
    /// ends without unwinding), then writes `error: <message>` to standard error, with
    /// the rank when the job has more than one.
    static func reportFatal(_ message: String, rank: Int, size: Int) {
        fflush(nil)  // every output stream, stdout included
        let prefix = size > 1 ? "error: rank \(rank) of \(size): " : "error: "
        FileHandle.standardError.write(Data((prefix + message + "\n").utf8))
    }
}
