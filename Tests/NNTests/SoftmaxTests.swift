import NN
import XCTest

final class SoftmaxTests: XCTestCase {
    private func run(_ logits: LogitRows, temperature: Float) -> [Float] {
        var p = [Float](repeating: .nan, count: logits.flat.count)
        let flat = logits.flat
        p.withUnsafeMutableBufferPointer {
            softmax(flat, temperature: temperature, into: $0.baseAddress!, rows: logits.count, classes: logits.classes)
        }
        return p
    }

    private func check(_ logits: LogitRows, temperature: Float, file: StaticString = #filePath, line: UInt = #line) {
        let p = run(logits, temperature: temperature)
        XCTAssertTrue(p.allSatisfy { $0.isFinite && $0 >= 0 }, "T \(temperature): \(p)", file: file, line: line)
        for r in 0..<logits.count {
            let row = p[r * logits.classes..<(r + 1) * logits.classes]
            XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-6, "row \(r) sum, T \(temperature)", file: file, line: line)
        }
        let expected = logits.double.flatMap { Reference.softmax($0, temperature: Double(temperature)) }
        assertClose(p, expected, relative: 1e-5, absolute: 1e-7, "softmax T \(temperature)", file: file, line: line)
    }

    func testRowsSumToOneAndMatchReference() {
        var rng = SeededGenerator(seed: 130)
        let logits = LogitRows(rows: 4, classes: 10, range: 8, rng: &rng)
        for temperature: Float in [1, 2.5, 10] { check(logits, temperature: temperature) }
    }

    func testStableForHugeLogits() {
        let logits = LogitRows([[1e4, 1e4 - 1, 1e4 - 3, -1e4], [-1e4, -1e4 + 2, -1e4, -1e4]])
        for temperature: Float in [1, 10] { check(logits, temperature: temperature) }
    }

    func testTemperatureSoftens() {
        let logits = LogitRows([[3, 1, 0]])
        let sharp = run(logits, temperature: 1), soft = run(logits, temperature: 10)
        XCTAssertGreaterThan(sharp[0], soft[0])
        XCTAssertLessThan(sharp[2], soft[2])
    }
}
