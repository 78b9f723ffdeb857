/// The processes of one data-parallel job and the collectives they take together.
///
/// Every rank must call every collective, in the same order, with matching arguments
/// (the same count for `allreduceSum`, the same root for `broadcast`, the same `counts`
/// for `allgatherv`), even a rank with nothing to contribute. Arguments a collective
/// cannot honour (mismatched counts, a root out of range, a count beyond `Int32.max`)
/// end the whole job through `abort(message:)`; so does any failure of the transport.
public protocol Communicator: AnyObject {
    /// This process's index, `0..<size`.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// The number of the job's processes on this node (they share its cores).
    var localSize: Int { get }
    /// "MPI" or "single process", for the start-up line.
    var transport: String { get }

    /// Replaces `buffer` on every rank with the elementwise sum of all ranks' buffers.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>)
    /// Replaces `buffer` on every rank with the elementwise sum of all ranks' buffers.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>)

    /// Copies rank `root`'s `buffer` into `buffer` on every other rank.
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int)

    /// Concatenates every rank's `send` block, in rank order, into `receive` on every rank.
    ///
    /// Each rank sends `send` (its count must equal `counts[rank]`); `receive` holds
    /// `sum(counts)`, rank r's block at offset `sum(counts[..<r])`. A count may be 0.
    func allgatherv(send: UnsafeBufferPointer<Float>, receive: UnsafeMutableBufferPointer<Float>, counts: [Int])

    /// Returns once every rank has called it.
    func barrier()

    /// Prints `error: <message>` to standard error (naming the rank when `size > 1`) and
    /// ends the whole job with a non-zero exit status.
    func abort(message: String) -> Never

    /// Ends this process's part in the job once its work is done (MPI_Finalize); collectives after it abort.
    func finalize()
}

public extension Communicator {
    /// Whether this is rank 0, the rank that prints and writes files.
    var isRoot: Bool { rank == 0 }
}
