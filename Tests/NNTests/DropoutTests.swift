import NN
import XCTest

/// Dropout: a finite-difference check in training mode (the mask is fixed for one pass), the keep
/// rate and scale, identity in inference, and masks keyed on step and global sample id.
final class DropoutTests: XCTestCase {
    private func pass(step: Int = 3, ids: [Int]) -> TrainingPass { TrainingPass(seed: 42, step: step, sampleIDs: ids[...]) }

    func testGradientInTrainingMode() throws {
        let dropout = Dropout(rate: 0.4)
        let h = try LayerHarness(dropout, inputShape: [3, 4, 2], batch: 3, seed: 70)
        dropout.begin(pass(ids: [7, 1, 12]), layer: 2)
        GradientChecker().checkLayer(h, "dropout 0.4, training")
        _ = h.loss()
        let zeros = h.output.array.filter { $0 == 0 }.count
        XCTAssertGreaterThan(zeros, 0, "some values dropped")
        XCTAssertLessThan(zeros, h.output.count, "some values kept")
    }

    func testKeepRateScaleAndInference() throws {
        let dropout = Dropout(rate: 0.3)
        let count = 200
        let h = try LayerHarness(dropout, inputShape: [100], batch: count, input: Array(repeating: 1, count: 100 * count), seed: 71)
        dropout.begin(pass(ids: Array(0..<count)), layer: 0)
        _ = h.loss()
        let values = h.output.array
        let kept = values.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / Double(values.count), 0.7, accuracy: 0.01, "20000 draws: 0.7 +- 0.003 (1 sigma)")
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 }, "kept values are scaled by 1 / (1 - rate)")
        dropout.begin(nil, layer: 0)
        _ = h.loss()
        XCTAssertEqual(h.output.array, Array(repeating: 1, count: 100 * count), "inference passes through")
    }

    func testMasksAreKeyedOnStepAndGlobalSampleNotRow() throws {
        let dropout = Dropout(rate: 0.5)
        let h = try LayerHarness(dropout, inputShape: [64], batch: 2, input: Array(repeating: 1, count: 128), seed: 72)
        func masks(_ pass: TrainingPass) -> [[Float]] {
            dropout.begin(pass, layer: 1)
            _ = h.loss()
            let values = h.output.array
            return [Array(values[..<64]), Array(values[64...])]
        }
        let first = masks(pass(step: 3, ids: [5, 9]))
        // Sample 9 in row 0 of another rank's slice draws the mask it drew in row 1.
        XCTAssertEqual(masks(pass(step: 3, ids: [9, 5]))[0], first[1])
        XCTAssertNotEqual(first[0], first[1], "samples differ")
        XCTAssertNotEqual(masks(pass(step: 4, ids: [5, 9]))[0], first[0], "steps differ")
        dropout.begin(pass(step: 3, ids: [5, 9]), layer: 2)
        _ = h.loss()
        XCTAssertNotEqual(Array(h.output.array[..<64]), first[0], "layers differ")
    }

    func testRateMustBeBelowOne() {
        XCTAssertThrowsError(try Dropout(rate: 1).build(inputShape: [4]))
        XCTAssertThrowsError(try Dropout(rate: -0.1).build(inputShape: [4]))
    }
}
