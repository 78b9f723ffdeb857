/// Where each rank's block lands in an `allgatherv`, checked before any data moves.
struct GatherLayout: Equatable {
    /// Elements from each rank, as MPI's `recvcounts`.
    let counts: [Int32]         // [size]
    /// Offset of each rank's block in the receive buffer, as MPI's `displs`.
    let displacements: [Int32]  // [size]

    /// Fails unless `counts` has one non-negative entry per rank, this rank sends
    /// exactly `counts[rank]`, the receive buffer holds exactly `sum(counts)`, and every
    /// count and offset fits MPI's `int`.
    init(counts: [Int], rank: Int, size: Int, sendCount: Int, receiveCount: Int) throws(CollectiveError) {
        let call = "allgatherv"
        guard counts.count == size else {
            throw CollectiveError("\(call): \(counts.count) counts given for \(size) ranks")
        }
        if let bad = counts.firstIndex(where: { $0 < 0 }) {
            throw CollectiveError("\(call): count \(counts[bad]) for rank \(bad) is negative")
        }
        guard sendCount == counts[rank] else {
            throw CollectiveError("\(call): rank \(rank) sends \(sendCount) elements but counts[\(rank)] is \(counts[rank])")
        }
        var counts32: [Int32] = []
        var displacements32: [Int32] = []
        counts32.reserveCapacity(size)
        displacements32.reserveCapacity(size)
        var offset = 0
        for count in counts {
            displacements32.append(try CollectiveError.mpiCount(offset, in: call))
            counts32.append(try CollectiveError.mpiCount(count, in: call))
            offset += count
        }
        guard receiveCount == offset else {
            throw CollectiveError("\(call): receive buffer holds \(receiveCount) elements but the counts sum to \(offset)")
        }
        self.counts = counts32
        self.displacements = displacements32
    }
}
