import NN
import XCTest

final class SparseCategoricalCrossentropyTests: XCTestCase {
    private let loss = SparseCategoricalCrossentropy()

    private func evaluate(_ logits: LogitRows, _ labels: [Int32], scale: Float = 1) -> (sum: Double, gradient: [Float]) {
        var gradient = [Float](repeating: .nan, count: logits.flat.count)
        let flat = logits.flat
        let sum = gradient.withUnsafeMutableBufferPointer { g in
            loss(logits: flat, labels: labels, rows: logits.count, classes: logits.classes,
                 gradient: g.baseAddress!, scale: scale)
        }
        return (sum, gradient)
    }

    func testHandComputedValue() {
        // log(e^1 + e^2 + e^3) = 3.40760596444..., so label 2 costs 0.4076..., label 0 costs 2.4076...
        let logits = LogitRows([[1, 2, 3], [1, 2, 3]])
        let value = evaluate(logits, [2, 0]).sum
        XCTAssertEqual(value, 0.40760596444 + 2.40760596444, accuracy: 1e-6)
        // Without a gradient buffer the value is the same.
        let flat = logits.flat
        XCTAssertEqual(loss(logits: flat, labels: [2, 0], rows: 2, classes: 3, gradient: nil, scale: 1), value)
    }

    func testValueMatchesDoubleReference() {
        var rng = SeededGenerator(seed: 100)
        let logits = LogitRows(rows: 5, classes: 7, range: 4, rng: &rng)
        let labels: [Int32] = [0, 6, 3, 3, 1]
        let expected = zip(logits.double, labels).map { Reference.crossEntropy($0, label: Int($1)) }.reduce(0, +)
        XCTAssertEqual(evaluate(logits, labels).sum, expected, accuracy: 1e-5 * expected)
    }

    func testGradientByFiniteDifferences() {
        var rng = SeededGenerator(seed: 101)
        let logits = LogitRows(rows: 4, classes: 5, range: 3, rng: &rng)
        let labels: [Int32] = [4, 0, 2, 2]
        for scale: Float in [1, 0.25, 3] {
            let (_, gradient) = evaluate(logits, labels, scale: scale)
            let expected = zip(logits.double, labels).flatMap { z, label in
                Reference.gradient(at: z) { Reference.crossEntropy($0, label: Int(label)) }.map { $0 * Double(scale) }
            }
            assertClose(gradient, expected, relative: 1e-4, absolute: 1e-6, "cross-entropy gradient, scale \(scale)")
        }
    }

    func testStableForHugeLogits() {
        let logits = LogitRows([[1e4, 0, -1e4], [1e4, 0, -1e4]])
        let (sum, gradient) = evaluate(logits, [0, 1])
        XCTAssertEqual(sum, 1e4, accuracy: 1e-3)   // 0 for the first row, 1e4 for the second
        XCTAssertTrue(gradient.allSatisfy(\.isFinite))
        assertClose(gradient, [0, 0, 0, 1, -1, 0], relative: 0, absolute: 1e-6, "saturated gradient")
    }
}
