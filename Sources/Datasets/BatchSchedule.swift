/// How an epoch of `sampleCount` samples splits into global batches of `batchSize`, and
/// each batch into per-rank slices. Ranges are positions in the epoch's permutation.
///
/// Like Keras, the final batch may be partial (`sampleCount % batchSize` samples) and still counts.
public struct BatchSchedule: Equatable, Sendable {
    public let sampleCount: Int
    public let batchSize: Int

    public init(sampleCount: Int, batchSize: Int) {
        precondition(sampleCount >= 0 && batchSize > 0, "BatchSchedule(sampleCount: \(sampleCount), batchSize: \(batchSize))")
        self.sampleCount = sampleCount
        self.batchSize = batchSize
    }

    /// `ceil(sampleCount / batchSize)`, without overflow for any batch size.
    public var batchCount: Int { sampleCount / batchSize + (sampleCount % batchSize == 0 ? 0 : 1) }

    /// The positions of global batch `batch` (`0..<batchCount`): `batchSize` of them, fewer in the last.
    public func globalRange(batch: Int) -> Range<Int> {
        precondition((0..<batchCount).contains(batch), "batch \(batch) out of 0..<\(batchCount)")
        let start = batch * batchSize
        return start ..< start + min(batchSize, sampleCount - start)
    }

    /// The sizes of `rank`'s slices over an epoch: that of a full batch and of the last one.
    public func localBatchSizes(rank: Int, size: Int) -> Set<Int> {
        guard batchCount > 0 else { return [] }
        return [rankRange(batch: 0, rank: rank, size: size).count, rankRange(batch: batchCount - 1, rank: rank, size: size).count]
    }

    /// The contiguous slice of `globalRange(batch:)` that `rank` of `size` takes (see `shardRange`);
    /// empty when the batch has fewer samples than ranks.
    public func rankRange(batch: Int, rank: Int, size: Int) -> Range<Int> {
        let global = globalRange(batch: batch)
        let local = shardRange(total: global.count, rank: rank, size: size)
        return global.lowerBound + local.lowerBound ..< global.lowerBound + local.upperBound
    }
}
