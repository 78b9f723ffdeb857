import Distill
import XCTest

/// Flags read numbers in decimal notation only, finite in their type.
final class DecimalNumberTests: XCTestCase {
    func testDecimalSpellingsAreRead() {
        XCTAssertEqual(DecimalNumber.parse("0.001", as: Float.self), 0.001)
        XCTAssertEqual(DecimalNumber.parse("1e-3", as: Float.self), 0.001)
        XCTAssertEqual(DecimalNumber.parse("300", as: Double.self), 300)
        XCTAssertEqual(DecimalNumber.parse("-1", as: Double.self), -1)
        XCTAssertEqual(DecimalNumber.parse("+2.5E2", as: Double.self), 250)
    }

    func testOtherSpellingsAndOverflowAreRefused() {
        for text in ["0x10", "0x1p-3", "inf", "-inf", "nan", "infinity", "", " 1", "1,5", "1e39", "--1"] {
            XCTAssertNil(DecimalNumber.parse(text, as: Float.self), text)
        }
        XCTAssertNil(DecimalNumber.parse("1e309", as: Double.self))
        XCTAssertEqual(DecimalNumber.parse("1e39", as: Double.self), 1e39)
    }
}
