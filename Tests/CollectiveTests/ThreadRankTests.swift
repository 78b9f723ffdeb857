import Collective
import XCTest

/// Ranks that are threads of this process take the collectives as MPI ranks do, with sums in rank
/// order: the same bits whichever thread adds, and at two ranks the bits of any reduction of two.
final class ThreadRankTests: XCTestCase {
    /// Values whose sums round: a different order of additions would change low bits.
    private func values<T: BinaryFloatingPoint>(rank: Int, count: Int, as: T.Type) -> [T] {
        (0..<count).map { i in T(sin(Double(i * 7 + rank * 13 + 1)) * pow(10, Double((i + rank) % 7) - 3)) }
    }

    func testSumsAreTakenInRankOrderOnEveryRank() {
        for size in [1, 2, 3, 5] {
            for count in [0, 1, 7, 4099] {
                let all = (0..<size).map { values(rank: $0, count: count, as: Float.self) }
                let expected: [Float] = (0..<count).map { i in (1..<size).reduce(all[0][i]) { $0 + all[$1][i] } }
                let results = ThreadGroup.run(size: size, collectiveTimeout: 60) { rank -> [Float] in
                    var buffer = values(rank: rank.rank, count: count, as: Float.self)
                    buffer.withUnsafeMutableBufferPointer { rank.allreduceSum($0) }
                    return buffer
                }
                for (rank, result) in results.enumerated() {
                    XCTAssertEqual(result.map(\.bitPattern), expected.map(\.bitPattern), "size \(size), count \(count), rank \(rank)")
                }
            }
        }
    }

    func testDoubleSumsAndTwoRanksGiveTheCommutativeSum() {
        let count = 1000
        let (a, b) = (values(rank: 0, count: count, as: Double.self), values(rank: 1, count: count, as: Double.self))
        let results = ThreadGroup.run(size: 2, collectiveTimeout: 60) { rank -> [Double] in
            var buffer = rank.rank == 0 ? a : b
            buffer.withUnsafeMutableBufferPointer { rank.allreduceSum($0) }
            return buffer
        }
        let swapped = zip(b, a).map { $0 + $1 }
        XCTAssertEqual(results[0].map(\.bitPattern), swapped.map(\.bitPattern))
        XCTAssertEqual(results[1].map(\.bitPattern), swapped.map(\.bitPattern))
    }

    func testBroadcastCopiesTheRootsBufferToEveryRank() {
        for root in 0..<3 {
            let results = ThreadGroup.run(size: 3, collectiveTimeout: 60) { rank -> [Float] in
                var buffer = [Float](repeating: Float(rank.rank), count: 33)
                buffer.withUnsafeMutableBufferPointer { rank.broadcast($0, root: root) }
                return buffer
            }
            XCTAssertEqual(results, Array(repeating: Array(repeating: Float(root), count: 33), count: 3))
        }
    }

    func testAllgathervConcatenatesBlocksInRankOrderWithEmptyOnes() {
        let counts = [2, 0, 3, 1]
        let results = ThreadGroup.run(size: 4, collectiveTimeout: 60) { rank -> [Float] in
            rank.allgatherv((0..<counts[rank.rank]).map { Float(rank.rank * 10 + $0) }, counts: counts)
        }
        for result in results { XCTAssertEqual(result, [0, 1, 20, 21, 22, 30]) }
    }

    /// Many collectives back to back, with ranks of unequal speed: a rank that reused a posted
    /// buffer or count before the others had read it would change a sum.
    func testManyCollectivesInARowStayConsistent() {
        let size = 3
        let results = ThreadGroup.run(size: size, collectiveTimeout: 60) { rank -> Bool in
            var consistent = true
            for step in 0..<2000 {
                if (step + rank.rank) % 97 == 0 { usleep(200) }
                var values = [Float](repeating: Float(rank.rank + step), count: 1 + step % 17)
                values.withUnsafeMutableBufferPointer { rank.allreduceSum($0) }
                consistent = consistent && values.allSatisfy { $0 == Float(size * step + size * (size - 1) / 2) }
                var root = [Float](repeating: Float(rank.rank), count: 5)
                root.withUnsafeMutableBufferPointer { rank.broadcast($0, root: step % size) }
                consistent = consistent && root.allSatisfy { $0 == Float(step % size) }
                if step % 7 == 0 { rank.barrier() }
            }
            return consistent
        }
        XCTAssertEqual(results, Array(repeating: true, count: size))
    }

    func testRankSizeAndTransport() {
        let seen = ThreadGroup.run(size: 3, collectiveTimeout: nil) { rank in "\(rank.rank)/\(rank.size)/\(rank.localSize)/\(rank.transport)" }
        XCTAssertEqual(seen, ["0/3/3/threads", "1/3/3/threads", "2/3/3/threads"])
    }

    func testThreadRanksAreRefusedUnderALauncher() {
        XCTAssertNil(Launch.threadRanksProblem(1, environment: ["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertNil(Launch.threadRanksProblem(2, environment: [:]))
        XCTAssertNil(Launch.threadRanksProblem(2, environment: ["SLURM_NTASKS": "1"]))
        // A batch script's own process, in an allocation of 4 tasks; and a one-task step within it.
        XCTAssertNil(Launch.threadRanksProblem(4, environment: ["SLURM_NTASKS": "4", "SLURM_PROCID": "0"]))
        XCTAssertNil(Launch.threadRanksProblem(4, environment: ["SLURM_NTASKS": "4", "SLURM_STEP_ID": "0", "SLURM_PROCID": "0",
                                                                "SLURM_STEP_NUM_TASKS": "1"]))
        let step = ["SLURM_NTASKS": "4", "SLURM_STEP_ID": "0", "SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "4"]
        for environment in [["OMPI_COMM_WORLD_SIZE": "1"], ["PMIX_RANK": "0"], step] {
            let problem = Launch.threadRanksProblem(4, environment: environment)
            XCTAssertTrue(problem?.hasPrefix("--ranks 4 runs the ranks as threads of this one process") == true, "\(environment): \(problem ?? "nil")")
        }
    }
}
