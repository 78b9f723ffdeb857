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

    /// The output of `dropout` in training on ones of `shape`, `batch` samples with ids 0..<batch.
    private func trainingOutput(_ dropout: Dropout, shape: [Int], batch: Int) throws -> [Float] {
        let count = elementCount(shape) * batch
        let h = try LayerHarness(dropout, inputShape: shape, batch: batch, input: Array(repeating: 1, count: count), seed: 73)
        dropout.begin(pass(ids: Array(0..<batch)), layer: 4)
        _ = h.loss()
        return h.output.array
    }

    private func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    func testNoiseShapeOfOnesKeepsOrDropsWholeSamples() throws {
        // EfficientNet's stochastic depth: noise_shape [null, 1, 1, 1].
        let values = try trainingOutput(Dropout(rate: 0.25, noiseShape: [1, 1, 1]), shape: [3, 4, 2], batch: 400)
        let samples = stride(from: 0, to: values.count, by: 24).map { Array(values[$0..<$0 + 24]) }
        XCTAssertTrue(samples.allSatisfy { Set($0).count == 1 }, "one keep per sample")
        let dropped = samples.filter { $0[0] == 0 }.count
        XCTAssertEqual(Double(dropped) / 400, 0.25, accuracy: 0.065, "400 draws: 0.25 +- 0.022 (1 sigma)")
        XCTAssertTrue(samples.allSatisfy { $0[0] == 0 || abs($0[0] - 1 / 0.75) < 1e-6 })
    }

    func testNoiseShapeBroadcastsOverItsAxesOfOne() throws {
        // [H, W, C] = [3, 4, 2] with noise [H, 1, C]: every row of a channel shares its keep across the width.
        let values = try trainingOutput(Dropout(rate: 0.5, noiseShape: [nil, 1, nil]), shape: [3, 4, 2], batch: 50)
        var patterns = Set<[Float]>()
        for n in 0..<50 {
            for y in 0..<3 {
                for c in 0..<2 {
                    let across = (0..<4).map { x in values[n * 24 + (y * 4 + x) * 2 + c] }
                    XCTAssertEqual(Set(across).count, 1, "sample \(n), row \(y), channel \(c)")
                }
                patterns.insert((0..<2).map { c in values[n * 24 + y * 8 + c] })
            }
        }
        XCTAssertEqual(patterns.count, 4, "channels and rows draw their own keeps")
    }

    func testTheInputsOwnNoiseShapeDrawsTheDefaultMasks() throws {
        let plain = try trainingOutput(Dropout(rate: 0.4), shape: [3, 4, 2], batch: 6)
        XCTAssertEqual(try trainingOutput(Dropout(rate: 0.4, noiseShape: [nil, nil, nil]), shape: [3, 4, 2], batch: 6), plain)
        XCTAssertEqual(try trainingOutput(Dropout(rate: 0.4, noiseShape: [3, 4, 2]), shape: [3, 4, 2], batch: 6), plain)
    }

    func testGradientWithANoiseShape() throws {
        let dropout = Dropout(rate: 0.4, noiseShape: [1, nil, 1])
        let h = try LayerHarness(dropout, inputShape: [3, 4, 2], batch: 3, seed: 74)
        dropout.begin(pass(ids: [7, 1, 12]), layer: 2)
        GradientChecker().checkLayer(h, "dropout 0.4, noise [1, W, 1], training")
    }

    func testNoiseShapesThatDoNotFitAreErrors() {
        XCTAssertThrowsError(try Dropout(rate: 0.5, noiseShape: [1, 1]).build(inputShape: [3, 4, 2])) { error in
            XCTAssertEqual("\(error)", "dropout noise_shape [null, 1, 1] has 3 axes, but its input [null, 3, 4, 2] has 4")
        }
        XCTAssertThrowsError(try Dropout(rate: 0.5, noiseShape: [2, 1, 1]).build(inputShape: [3, 4, 2])) { error in
            XCTAssertEqual("\(error)", "dropout noise_shape [null, 2, 1, 1] does not broadcast to its input [null, 3, 4, 2]: "
                + "each axis must be null, 1 or the input's")
        }
        for bad in ["[1, 1, 1, 1]", "[null]", "[null, 0, 1, 1]", "[null, \"x\", 1, 1]", "3", "[null, 1.5, 1, 1]"] {
            assertModelError([KerasModel.layer("Dropout", "x", #""rate": 0.5, "noise_shape": \#(bad)"#)], input: "[null, 8, 8, 1]",
                             saying: "'x' (Dropout)", "noise_shape")
        }
        assertModelError([KerasModel.layer("Dropout", "x", #""rate": 0.5, "noise_shape": [null, 1, 1]"#)], input: "[null, 8, 8, 1]",
                         saying: "noise_shape [null, 1, 1] has 3 axes")
    }
}
