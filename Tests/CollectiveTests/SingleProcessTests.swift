import Collective
import XCTest

final class SingleProcessTests: XCTestCase {
    func testIsRankZeroOfOne() {
        let communicator = SingleProcess()
        XCTAssertEqual(communicator.rank, 0)
        XCTAssertEqual(communicator.size, 1)
        XCTAssertTrue(communicator.isRoot)
    }

    func testAllreduceSumLeavesValues() {
        let communicator = SingleProcess()
        var floats: [Float] = [1.5, -2, 0, .greatestFiniteMagnitude]
        communicator.allreduceSum(&floats)
        XCTAssertEqual(floats, [1.5, -2, 0, .greatestFiniteMagnitude])

        var doubles: [Double] = [0x1p40 + 0.25, -3]
        communicator.allreduceSum(&doubles)
        XCTAssertEqual(doubles, [0x1p40 + 0.25, -3])

        var empty: [Double] = []
        communicator.allreduceSum(&empty)
        XCTAssertEqual(empty, [])
    }

    func testBroadcastFromRootZeroLeavesValues() {
        let communicator = SingleProcess()
        var values: [Float] = [3, 1, 4, 1, 5]
        communicator.broadcast(&values, root: 0)
        XCTAssertEqual(values, [3, 1, 4, 1, 5])
    }

    func testAllgathervCopiesSendIntoReceive() {
        let communicator = SingleProcess()
        let send: [Float] = [2, 7, 1, 8]
        var receive = [Float](repeating: .nan, count: 4)
        receive.withUnsafeMutableBufferPointer { receive in
            send.withUnsafeBufferPointer { communicator.allgatherv(send: $0, receive: receive, counts: [4]) }
        }
        XCTAssertEqual(receive, send)
        XCTAssertEqual(communicator.allgatherv(send, counts: [4]), send)
    }

    func testAllgathervOfNothing() {
        XCTAssertEqual(SingleProcess().allgatherv([], counts: [0]), [])
    }
}
