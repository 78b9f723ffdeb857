import NN
import XCTest

/// ClippedReLU (Keras 3's `relu(x, negative_slope, max_value, threshold)`) and the `ReLU` registry entry.
///
/// Forward values are checked exactly on hand tables (slopes 0.25 and 0.5 and dyadic inputs, so every
/// result is a float with no rounding) and against Keras's three-line definition evaluated in Double
/// (within 1e-6 relative: one float multiply-subtract). The gradient checks keep every input >= 0.05
/// from the kinks (the threshold, 0 and max_value) while the step is 1e-2, so the central difference
/// of this piecewise-linear layer is exact up to float rounding (see `GradientChecker`); each check
/// also asserts that its inputs reach every linear piece, so no branch goes untested.
final class ClippedReLUTests: XCTestCase {
    /// Keras 3's definition (keras/src/activations/activations.py, `ReLU.static_call`), in Double.
    static func keras(_ x: Double, negativeSlope: Double, maxValue: Double?, threshold: Double) -> Double {
        var y = threshold != 0 ? (x > threshold ? x : 0) : max(x, 0)
        if let maxValue { y = min(max(y, 0), maxValue) }
        return y - negativeSlope * max(threshold - x, 0)
    }

    private func forward(_ layer: ClippedReLU, _ input: [Float]) throws -> [Float] {
        let h = try LayerHarness(layer, inputShape: [input.count], batch: 1, input: input, seed: 0)
        _ = h.loss()
        return h.output.array
    }

    func testReLU6() throws {
        XCTAssertEqual(try forward(ClippedReLU(maxValue: 6), [-3, -0.5, 0, 0.5, 3, 6, 6.5, 100]), [0, 0, 0, 0.5, 3, 6, 6, 6])
    }

    func testThresholdAlone() throws {
        // x > threshold passes unchanged; at or below it, 0 (not x - threshold).
        XCTAssertEqual(try forward(ClippedReLU(threshold: 1), [-2, 0.5, 1, 1.5, 3]), [0, 0, 0, 1.5, 3])
    }

    func testThresholdWithNegativeSlope() throws {
        // Below the threshold: -slope * (threshold - x), also for 0 < x < threshold.
        XCTAssertEqual(try forward(ClippedReLU(negativeSlope: 0.25, threshold: 1), [-2, 0.5, 1, 1.5, 3]),
                       [-0.75, -0.125, 0, 1.5, 3])
    }

    func testCapWithNegativeSlope() throws {
        // The cap clips the positive part only; the negative part is slope * x, uncapped.
        XCTAssertEqual(try forward(ClippedReLU(negativeSlope: 0.5, maxValue: 6), [-20, -2, -0.5, 0.5, 5.5, 7]),
                       [-10, -1, -0.25, 0.5, 5.5, 6])
    }

    func testCapThresholdAndSlope() throws {
        XCTAssertEqual(try forward(ClippedReLU(negativeSlope: 0.5, maxValue: 6, threshold: 2), [-1, 1, 2, 2.5, 7]),
                       [-1.5, -0.5, 0, 2.5, 6])
    }

    func testCapBelowThreshold() throws {
        // max_value 1 < threshold 2: nothing passes below 2, everything above it is capped at 1.
        XCTAssertEqual(try forward(ClippedReLU(negativeSlope: 0.25, maxValue: 1, threshold: 2), [0, 1.5, 2.5, 5]),
                       [-0.5, -0.125, 1, 1])
    }

    func testCapZero() throws {
        XCTAssertEqual(try forward(ClippedReLU(maxValue: 0), [-1, 0.5, 2]), [0, 0, 0])
    }

    /// The settings of the gradient and reference checks: (slope, cap, threshold).
    static let settings: [(slope: Float, cap: Float?, threshold: Float)] = [
        (0, 6, 0), (0, nil, 0.5), (0.2, nil, 1), (0.3, 2, 0), (0.1, 3, 1), (0.25, 1, 2), (0, 4, 1.5),
    ]

    func testMatchesKerasDefinitionOnAGrid() throws {
        let grid = (0..<241).map { Float($0) * 0.05 - 4 }   // -4 ... 8, through every kink
        for s in Self.settings {
            let got = try forward(ClippedReLU(negativeSlope: s.slope, maxValue: s.cap, threshold: s.threshold), grid)
            let want = grid.map { Self.keras(Double($0), negativeSlope: Double(s.slope), maxValue: s.cap.map(Double.init),
                                             threshold: Double(s.threshold)) }
            assertClose(got, want, relative: 1e-6, absolute: 1e-7, "relu \(s)")
        }
    }

    func testGradients() throws {
        for (k, s) in Self.settings.enumerated() {
            var rng = SeededGenerator(seed: 400 + UInt64(k))
            let kinks = [0, s.threshold] + (s.cap.map { [$0] } ?? [])
            let input = rng.floats(2 * 60, in: -3, 8, awayFrom: kinks, margin: 0.05)
            // Every linear piece is visited: below the threshold, passing, and above the cap.
            XCTAssertTrue(input.contains { $0 < s.threshold }, "\(s): nothing below the threshold")
            XCTAssertTrue(input.contains { $0 > s.threshold && $0 < (s.cap ?? .infinity) } || (s.cap ?? .infinity) <= s.threshold,
                          "\(s): nothing passes")
            if let cap = s.cap { XCTAssertTrue(input.contains { $0 > max(cap, s.threshold) }, "\(s): nothing above the cap") }
            let layer = ClippedReLU(negativeSlope: s.slope, maxValue: s.cap, threshold: s.threshold)
            let h = try LayerHarness(layer, inputShape: [3, 5, 4], batch: 2, input: input, seed: 410 + UInt64(k))
            XCTAssertTrue(h.parameterNames.isEmpty)
            XCTAssertEqual(h.outputShape, [3, 5, 4])
            GradientChecker().checkLayer(h, "relu slope \(s.slope) cap \(s.cap.map { "\($0)" } ?? "none") threshold \(s.threshold)")
        }
    }

    /// The slope of each piece, exactly: 1 passing, 0 capped, negative_slope below the threshold.
    func testGradientValuesPerPiece() throws {
        let layer = ClippedReLU(negativeSlope: 0.25, maxValue: 6, threshold: 1)
        let h = try LayerHarness(layer, inputShape: [5], batch: 1, input: [-2, 0.5, 1.5, 5, 7], seed: 0)
        h.upstream.fill([1, 1, 1, 1, 1])
        XCTAssertEqual(h.analyticGradients().input, [0.25, 0.25, 1, 1, 0])
    }

    /// The input gradient on the grid through every kink (long enough for the vector loops, not only their
    /// tails): exactly upstream x the piece's slope, 1 inside (lower, cap), 0 capped or at a kink, plus
    /// negative_slope below the threshold.
    func testInputGradientsExactlyOnALongGrid() throws {
        let grid = (0..<241).map { Float($0) * 0.05 - 4 }
        for (k, s) in Self.settings.enumerated() {
            let h = try LayerHarness(ClippedReLU(negativeSlope: s.slope, maxValue: s.cap, threshold: s.threshold),
                                     inputShape: [grid.count], batch: 1, input: grid, seed: 0)
            var rng = SeededGenerator(seed: 420 + UInt64(k))
            let upstream = rng.floats(grid.count, in: -2, 2)
            h.upstream.fill(upstream)
            let lower = s.cap == nil ? s.threshold : max(s.threshold, 0)
            let want = zip(grid, upstream).map { x, dy in
                dy * ((x > lower && x < (s.cap ?? .infinity) ? 1 : 0) + (x < s.threshold ? s.slope : 0))
            }
            XCTAssertEqual(h.analyticGradients().input, want, "relu \(s)")
        }
    }

    // MARK: - Keras's ReLU layer in a model description

    private func relu(_ options: String) throws -> Layer {
        let model = try KerasModel.build([KerasModel.layer("ReLU", "r", options)], input: "[null, 4]")
        XCTAssertEqual(model.layers.count, 1)
        XCTAssertEqual(model.layerNames, ["r"])
        return model.layers[0]
    }

    func testPlainReLUStaysALeakyReLU() throws {
        for options in ["", #""max_value": null, "negative_slope": 0.0, "threshold": 0.0"#] {
            let layer = try relu(options)
            XCTAssertEqual((layer as? LeakyReLU)?.alpha, 0, "'\(options)' is \(layer)")
        }
        XCTAssertEqual((try relu(#""max_value": null, "negative_slope": 0.125"#) as? LeakyReLU)?.alpha, 0.125)
    }

    func testCapOrThresholdMakesAClippedReLU() throws {
        let six = try XCTUnwrap(try relu(#""max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0"#) as? ClippedReLU)
        XCTAssertEqual(six.maxValue, 6)
        XCTAssertEqual(six.threshold, 0)
        XCTAssertEqual(six.negativeSlope, 0)
        let thresholded = try XCTUnwrap(try relu(#""max_value": null, "threshold": 0.5"#) as? ClippedReLU)
        XCTAssertNil(thresholded.maxValue)
        XCTAssertEqual(thresholded.threshold, 0.5)
        let all = try XCTUnwrap(try relu(#""max_value": 3, "negative_slope": 0.25, "threshold": 1.5"#) as? ClippedReLU)
        XCTAssertEqual([all.maxValue, all.negativeSlope, all.threshold], [3, 0.25, 1.5])
        XCTAssertEqual((try relu(#""max_value": 0"#) as? ClippedReLU)?.maxValue, 0, "max_value 0 is a cap, not 'no cap'")
    }

    func testReLU6ThroughAModel() throws {
        let model = try KerasModel.build([KerasModel.layer("ReLU", "r", #""max_value": 6.0"#)], input: "[null, 4]")
        XCTAssertEqual(KerasModel.infer(model, [-1, 3, 7, 0.5, 6.5, -0.25, 2, 12], batch: 2), [0, 3, 6, 0.5, 6, 0, 2, 6])
    }

    func testMalformedOptionsAreOneLineErrors() {
        let r = { (options: String) in [KerasModel.layer("ReLU", "r", options)] }
        assertModelError(r(#""max_value": -1.0"#), input: "[null, 4]", saying: "'r' (ReLU)", "max_value is -1", "0.0...")
        assertModelError(r(#""max_value": "6""#), input: "[null, 4]", saying: "'r' (ReLU)", "max_value is \"6\"")
        assertModelError(r(#""max_value": true"#), input: "[null, 4]", saying: "'r' (ReLU)", "max_value is true")
        assertModelError(r(#""threshold": -0.5"#), input: "[null, 4]", saying: "'r' (ReLU)", "threshold is -0.5")
        assertModelError(r(#""threshold": [1]"#), input: "[null, 4]", saying: "'r' (ReLU)", "threshold is [1]")
        assertModelError(r(#""negative_slope": -0.5, "max_value": 6"#), input: "[null, 4]", saying: "'r' (ReLU)", "negative_slope is -0.5")
        assertModelError(r(#""max_valu": 6"#), input: "[null, 4]", saying: "'r' (ReLU)", "option max_valu")
    }
}
