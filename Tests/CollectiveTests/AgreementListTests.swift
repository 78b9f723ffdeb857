@testable import Collective
import XCTest

/// What ranks are told when their agreement lists differ: the same name with another hash, a name
/// only one side has, lists of other lengths; the encoding carries names and hashes exactly.
final class AgreementListTests: XCTestCase {
    private func item(_ name: String, _ hash: UInt64) -> AgreementList.Item { AgreementList.Item(name: name, hash: hash) }

    func testEncodingRoundTripsNamesAndFullHashes() {
        let items: [(name: String, hash: UInt64)] = [("the command run", .max), ("--alpha 0.1 é", 0x0123_4567_89AB_CDEF), ("", 0)]
        let decoded = AgreementList.decode(AgreementList.encode(items)[...])
        XCTAssertEqual(decoded, items.map { item($0.name, $0.hash) })
    }

    func testEqualListsAgree() {
        let list = [item("a", 1), item("b", 2)]
        XCTAssertNil(AgreementList.firstDifference([list, list, list]))
    }

    func testAHashThatDiffersNamesTheItemAndTheRanks() {
        let ours = [item("the training data", 1), item("--gemm", 2)]
        let theirs = [item("the training data", 9), item("--gemm", 2)]
        XCTAssertEqual(AgreementList.firstDifference([ours, theirs, ours, theirs]),
                       "the ranks disagree on the training data: ranks 1, 3 differ from rank 0; give every rank the same command line and the same files")
    }

    func testANameOnlyOneSideHasIsShownWithWhatTheOtherHas() {
        let ours = [item("the command train-teacher", 1), item("--seed 1", 2)]
        let theirs = [item("the command train-teacher", 1), item("--seed 2", 3)]
        XCTAssertEqual(AgreementList.firstDifference([ours, theirs]),
                       "the ranks disagree: rank 0 has --seed 1, rank 1 has --seed 2; give every rank the same command line and the same files")
        XCTAssertEqual(AgreementList.firstDifference([ours, [ours[0]]]),
                       "the ranks disagree: rank 0 has --seed 1, rank 1 does not; give every rank the same command line and the same files")
        XCTAssertEqual(AgreementList.firstDifference([[ours[0]], ours]),
                       "the ranks disagree: rank 1 has --seed 1, rank 0 does not; give every rank the same command line and the same files")
        XCTAssertEqual(AgreementList.firstDifference([[], ours])?.hasPrefix("the ranks disagree: rank 1 has the command train-teacher"), true)
    }
}
