/// Whole runs to ranks, in rounds: the runs are ordered by cost, most expensive first (ties keep
/// their order), and round r gives rank k the run at position r * size + k, so the runs of a round
/// take about as long and a rank rarely waits for another at the round's gather. The last round
/// may leave ranks without a run. Every rank computes the same assignment from the same list.
public struct RunAssignment: Sendable {
    /// Indices into the run list, in the order they are handed out.
    public let order: [Int]
    public let size: Int

    public init(costs: [Double], size: Int) {
        precondition(size > 0, "RunAssignment(size: \(size))")
        self.size = size
        order = costs.indices.sorted { costs[$0] != costs[$1] ? costs[$0] > costs[$1] : $0 < $1 }
    }

    public var roundCount: Int { (order.count + size - 1) / size }

    /// The run rank `rank` trains in round `round`, or nil when it has none.
    public func run(round: Int, rank: Int) -> Int? {
        let position = round * size + rank
        return position < order.count ? order[position] : nil
    }
}
