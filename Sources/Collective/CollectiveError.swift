/// Why a collective's arguments cannot be honoured; communicators pass `message` to
/// `abort(message:)`.
struct CollectiveError: Error, Equatable, CustomStringConvertible {
    let message: String

    init(_ message: String) { self.message = message }

    var description: String { message }

    /// `count` as the `int` MPI takes, or an error naming `call` when it does not fit.
    static func mpiCount(_ count: Int, in call: String) throws(CollectiveError) -> Int32 {
        guard let count32 = Int32(exactly: count) else {
            throw CollectiveError("\(call): \(count) elements exceed MPI's limit of \(Int32.max) per call")
        }
        return count32
    }

    /// Checks that `root` names a rank of a job of `size` processes.
    static func checkRoot(_ root: Int, size: Int, in call: String) throws(CollectiveError) {
        guard (0..<size).contains(root) else {
            throw CollectiveError("\(call): root \(root) is not a rank of a job of \(size)")
        }
    }
}
