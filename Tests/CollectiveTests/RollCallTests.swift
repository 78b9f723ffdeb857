import Collective
import XCTest

/// The watchdog's roll call names the ranks that hold a collective up.
final class RollCallTests: XCTestCase {
    private let waiting = RollCall.Answer(collectivesBegun: 40, isInCollective: true)

    func testASilentRankIsNamed() {
        let call = RollCall(rank: 0, collective: 40, answers: [nil, nil, waiting])
        XCTAssertEqual(call.silent, [1])
        XCTAssertTrue(call.late.isEmpty)
        XCTAssertEqual(call.summary, "rank 1 did not answer (stopped, swapped out or cut off)")
    }

    func testSeveralSilentRanksAreListed() {
        let call = RollCall(rank: 2, collective: 40, answers: [nil, waiting, nil, nil])
        XCTAssertEqual(call.silent, [0, 3])
        XCTAssertEqual(call.summary, "ranks 0, 3 did not answer (stopped, swapped out or cut off)")
    }

    func testARankThatAnsweredFromElsewhereIsLate() {
        let computing = RollCall.Answer(collectivesBegun: 39, isInCollective: false)
        let elsewhere = RollCall.Answer(collectivesBegun: 41, isInCollective: true)
        let call = RollCall(rank: 1, collective: 40, answers: [computing, nil, elsewhere, waiting])
        XCTAssertTrue(call.silent.isEmpty)
        XCTAssertEqual(call.late.map(\.rank), [0, 2])
        XCTAssertEqual(call.summary,
            "rank 0 is running but has not reached it (computing after collective 39); "
                + "rank 2 is running but has not reached it (waiting in collective 41)")
    }

    func testARankOutsideTheSameNumberedCollectiveHasNotArrived() {
        // Same count but no longer inside: it left (or never entered) this collective.
        let call = RollCall(rank: 0, collective: 40, answers: [nil, RollCall.Answer(collectivesBegun: 40, isInCollective: false)])
        XCTAssertEqual(call.late.map(\.rank), [1])
    }

    func testEveryRankArrived() {
        let call = RollCall(rank: 0, collective: 40, answers: [nil, waiting, waiting])
        XCTAssertTrue(call.silent.isEmpty && call.late.isEmpty)
        XCTAssertEqual(call.summary, "every rank answered from this same collective")
    }
}
