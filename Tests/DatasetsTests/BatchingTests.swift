import Datasets
import XCTest

final class BatchingTests: XCTestCase {
    func testShardRangeExamples() {
        XCTAssertEqual((0..<3).map { shardRange(total: 10, rank: $0, size: 3) }, [0..<4, 4..<7, 7..<10])
        XCTAssertEqual((0..<4).map { shardRange(total: 2, rank: $0, size: 4) }, [0..<1, 1..<2, 2..<2, 2..<2])
        XCTAssertEqual((0..<2).map { shardRange(total: 0, rank: $0, size: 2) }, [0..<0, 0..<0])
        XCTAssertEqual(shardRange(total: 60000, rank: 0, size: 1), 0..<60000)
    }

    /// For every small total and size: contiguous, disjoint, in rank order, covering, sizes within one.
    func testShardRangesPartitionTheTotal() {
        for total in 0...40 {
            for size in 1...9 {
                let ranges = (0..<size).map { shardRange(total: total, rank: $0, size: size) }
                XCTAssertEqual(ranges.first?.lowerBound, 0)
                XCTAssertEqual(ranges.last?.upperBound, total)
                for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                let counts = ranges.map(\.count)
                XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1)
                XCTAssertEqual(counts, counts.sorted(by: >), "the larger shards come first")
            }
        }
    }

    func testBatchScheduleWithPartialFinalBatch() {
        let schedule = BatchSchedule(sampleCount: 10, batchSize: 4)
        XCTAssertEqual(schedule.batchCount, 3)
        XCTAssertEqual((0..<3).map { schedule.globalRange(batch: $0) }, [0..<4, 4..<8, 8..<10])
        // The final batch of 2 over 3 ranks: one rank gets nothing.
        XCTAssertEqual((0..<3).map { schedule.rankRange(batch: 2, rank: $0, size: 3) }, [8..<9, 9..<10, 10..<10])
        XCTAssertEqual((0..<3).map { schedule.rankRange(batch: 0, rank: $0, size: 3) }, [0..<2, 2..<3, 3..<4])
    }

    func testBatchScheduleCounts() {
        XCTAssertEqual(BatchSchedule(sampleCount: 60000, batchSize: 32).batchCount, 1875)
        XCTAssertEqual(BatchSchedule(sampleCount: 60001, batchSize: 32).batchCount, 1876)
        XCTAssertEqual(BatchSchedule(sampleCount: 3, batchSize: 32).batchCount, 1)
        XCTAssertEqual(BatchSchedule(sampleCount: 3, batchSize: 32).globalRange(batch: 0), 0..<3)
        XCTAssertEqual(BatchSchedule(sampleCount: 0, batchSize: 32).batchCount, 0)
    }

    /// Over all batches, the rank slices are disjoint and their union is the batch; the batches tile the epoch.
    func testRankRangesTileEachBatch() {
        for sampleCount in [0, 1, 5, 31, 32, 33, 100] {
            for batchSize in [1, 3, 32] {
                let schedule = BatchSchedule(sampleCount: sampleCount, batchSize: batchSize)
                var seen = [Int]()
                for batch in 0..<schedule.batchCount {
                    let global = schedule.globalRange(batch: batch)
                    XCTAssertFalse(global.isEmpty)
                    for size in 1...5 {
                        let slices = (0..<size).map { schedule.rankRange(batch: batch, rank: $0, size: size) }
                        XCTAssertEqual(slices.flatMap { Array($0) }, Array(global), "size \(size)")
                        XCTAssertTrue(slices.allSatisfy { global.contains($0.lowerBound) || $0.isEmpty })
                    }
                    seen += global
                }
                XCTAssertEqual(seen, Array(0..<sampleCount))
            }
        }
    }

    func testPermutationIsAPermutation() {
        var rng = SplitMix64(seed: 1)
        for count in [0, 1, 2, 3, 10, 1000, 60000] {
            let order = epochPermutation(count: count, using: &rng)
            XCTAssertEqual(order.sorted(), Array(0..<count))
        }
    }

    func testPermutationIsDeterministicForASeed() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        var c = SplitMix64(seed: 43)
        let first = epochPermutation(count: 1000, using: &a)
        XCTAssertEqual(first, epochPermutation(count: 1000, using: &b))
        XCTAssertNotEqual(first, epochPermutation(count: 1000, using: &c))
        // Successive epochs from one generator differ but repeat across identical generators.
        XCTAssertNotEqual(first, epochPermutation(count: 1000, using: &a))
        // Pinned: the algorithm must not drift between builds (all ranks must agree).
        var pinned = SplitMix64(seed: 7)
        XCTAssertEqual(epochPermutation(count: 10, using: &pinned), [9, 5, 8, 6, 1, 2, 4, 7, 0, 3])
    }

    /// All 6 orders of 3 elements come up about equally often.
    func testPermutationIsRoughlyUniform() {
        var rng = SplitMix64(seed: 3)
        var counts = [[Int]: Int]()
        for _ in 0..<6000 { counts[epochPermutation(count: 3, using: &rng), default: 0] += 1 }
        XCTAssertEqual(counts.count, 6)
        for (order, n) in counts { XCTAssertTrue((850...1150).contains(n), "\(order): \(n)") }
    }
}
