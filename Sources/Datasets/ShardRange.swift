/// The contiguous part of `0..<total` that `rank` of `size` ranks owns.
///
/// The first `total % size` ranks get one element more than the rest; ranks past `total`
/// get an empty range (when `total < size`). The ranges of ranks `0..<size` are disjoint,
/// in rank order, and cover `0..<total`.
public func shardRange(total: Int, rank: Int, size: Int) -> Range<Int> {
    precondition(total >= 0 && size > 0 && (0..<size).contains(rank), "shardRange(total: \(total), rank: \(rank), size: \(size))")
    let base = total / size
    let extra = total % size
    let start = rank * base + min(rank, extra)
    return start ..< start + base + (rank < extra ? 1 : 0)
}
