@testable import Collective
import XCTest

/// The argument checks every communicator runs before data moves; a failure here is
/// what `abort(message:)` reports.
final class GatherLayoutTests: XCTestCase {
    func testDisplacementsAreRunningSumsOfCounts() throws {
        let layout = try GatherLayout(counts: [3, 0, 5, 2], rank: 2, size: 4, sendCount: 5, receiveCount: 10)
        XCTAssertEqual(layout.counts, [3, 0, 5, 2])
        XCTAssertEqual(layout.displacements, [0, 3, 3, 8])
    }

    func testZeroCountsAreAllowed() throws {
        let layout = try GatherLayout(counts: [0, 0], rank: 1, size: 2, sendCount: 0, receiveCount: 0)
        XCTAssertEqual(layout.displacements, [0, 0])
    }

    func testWrongNumberOfCounts() {
        assertMessage(contains: "3 counts given for 2 ranks") {
            try GatherLayout(counts: [1, 1, 1], rank: 0, size: 2, sendCount: 1, receiveCount: 3)
        }
    }

    func testNegativeCount() {
        assertMessage(contains: "count -1 for rank 1 is negative") {
            try GatherLayout(counts: [2, -1], rank: 0, size: 2, sendCount: 2, receiveCount: 1)
        }
    }

    func testSendCountDiffersFromCountsOfRank() {
        assertMessage(contains: "rank 1 sends 4 elements but counts[1] is 3") {
            try GatherLayout(counts: [2, 3], rank: 1, size: 2, sendCount: 4, receiveCount: 5)
        }
    }

    func testReceiveCountDiffersFromSumOfCounts() {
        assertMessage(contains: "receive buffer holds 6 elements but the counts sum to 5") {
            try GatherLayout(counts: [2, 3], rank: 0, size: 2, sendCount: 2, receiveCount: 6)
        }
    }

    func testCountBeyondInt32() {
        let tooMany = Int(Int32.max) + 1
        assertMessage(contains: "\(tooMany) elements exceed MPI's limit") {
            try GatherLayout(counts: [tooMany], rank: 0, size: 1, sendCount: tooMany, receiveCount: tooMany)
        }
    }

    func testDisplacementBeyondInt32() {
        let counts = [Int(Int32.max), 1, 1]  // rank 2's block starts at 2^31
        assertMessage(contains: "exceed MPI's limit") {
            try GatherLayout(counts: counts, rank: 2, size: 3, sendCount: 1, receiveCount: counts.reduce(0, +))
        }
    }

    func testMPICountLimit() throws {
        XCTAssertEqual(try CollectiveError.mpiCount(Int(Int32.max), in: "MPI_Allreduce"), Int32.max)
        assertMessage(contains: "MPI_Allreduce: 2147483648 elements exceed MPI's limit of 2147483647 per call") {
            try CollectiveError.mpiCount(Int(Int32.max) + 1, in: "MPI_Allreduce")
        }
    }

    func testRootMustBeARank() throws {
        try CollectiveError.checkRoot(1, size: 2, in: "broadcast")
        assertMessage(contains: "broadcast: root 2 is not a rank of a job of 2") {
            try CollectiveError.checkRoot(2, size: 2, in: "broadcast")
        }
        assertMessage(contains: "root -1") { try CollectiveError.checkRoot(-1, size: 2, in: "broadcast") }
    }

    private func assertMessage<T>(
        contains text: String, _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try body()
            XCTFail("no error; expected one containing '\(text)'", file: file, line: line)
        } catch let error as CollectiveError {
            XCTAssertTrue(error.message.contains(text), "'\(error.message)' lacks '\(text)'", file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }
}
