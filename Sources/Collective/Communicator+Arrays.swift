/// Array forms of the collectives, for small values such as summed losses and counts.
/// Hot paths keep their own buffers and call the pointer forms.
public extension Communicator {
    /// Replaces `values` on every rank with the elementwise sum over all ranks.
    func allreduceSum(_ values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { allreduceSum($0) }
    }

    /// Replaces `values` on every rank with the elementwise sum over all ranks.
    func allreduceSum(_ values: inout [Double]) {
        values.withUnsafeMutableBufferPointer { allreduceSum($0) }
    }

    /// Copies rank `root`'s `values` into `values` on every rank; all counts must match.
    func broadcast(_ values: inout [Float], root: Int) {
        values.withUnsafeMutableBufferPointer { broadcast($0, root: root) }
    }

    /// Every rank's `values` concatenated in rank order; `values.count == counts[rank]`.
    func allgatherv(_ values: [Float], counts: [Int]) -> [Float] {
        // Sized from the counts as given; `allgatherv(send:receive:counts:)` checks them
        // and aborts on a mismatch before any data moves.
        let total = counts.reduce(0) { $0 + max($1, 0) }
        return [Float](unsafeUninitializedCapacity: total) { receive, initialized in
            values.withUnsafeBufferPointer { send in
                allgatherv(send: send, receive: receive, counts: counts)
            }
            initialized = total
        }
    }
}
