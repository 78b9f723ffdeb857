import NN
import XCTest

final class AccuracyTests: XCTestCase {
    func testCorrectCountWithTiesGoingToTheFirstIndex() {
        let rows: [([Float], Int32, Bool)] = [
            ([0.1, 0.9, 0.3], 1, true),
            ([2, 2, 1], 0, true),      // tie between 0 and 1: argmax is 0
            ([2, 2, 1], 1, false),
            ([1, 3, 3], 2, false),     // tie between 1 and 2: argmax is 1
            ([-1, -5, -0.5], 2, true), // all negative, last column
            ([0, 0, 5], 2, true),
            ([7, 7, 7], 0, true),
            ([7, 7, 7], 2, false),
        ]
        let logits = rows.flatMap(\.0), labels = rows.map(\.1)
        XCTAssertEqual(correctCount(logits: logits, labels: labels, rows: rows.count, classes: 3),
                       rows.filter(\.2).count)
        XCTAssertEqual(rows.filter(\.2).count, 5)
        for (i, row) in rows.enumerated() {
            XCTAssertEqual(correctCount(logits: row.0, labels: [row.1], rows: 1, classes: 3), row.2 ? 1 : 0, "row \(i)")
        }
    }

    func testZeroRows() {
        XCTAssertEqual(correctCount(logits: [Float](), labels: [Int32](), rows: 0, classes: 10), 0)
    }
}
