import NN
import XCTest

/// BatchNormalization: finite-difference checks in training mode (through the batch statistics),
/// the moving-statistics rule, inference from the moving statistics, the global batch: two
/// halves reduced together give the statistics of the whole, and the `axis` option: -1 or the
/// input's rank (the channel axis, identical results) builds, any other axis is a one-line error.
final class BatchNormalizationTests: XCTestCase {
    /// A reducer over one process: the sums are already global.
    final class Alone: BatchReducer {
        func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    }

    private func training(_ reducer: BatchReducer = Alone(), batch: Int) -> TrainingPass {
        TrainingPass(seed: 1, step: 0, sampleIDs: Array(0..<batch)[...], reducer: reducer)
    }

    func testGradientsInTrainingMode() throws {
        for (shape, center, scale) in [([3, 2, 4], true, true), ([5], true, false), ([2, 2, 3], false, true)] {
            let layer = BatchNormalization(center: center, scale: scale)
            let h = try LayerHarness(layer, inputShape: shape, batch: 4, seed: 80)
            layer.begin(training(batch: 4), layer: 0)
            XCTAssertEqual(h.parameterNames, (scale ? ["gamma"] : []) + (center ? ["beta"] : []) + ["moving_mean", "moving_variance"])
            GradientChecker().checkLayer(h, "batch normalization \(shape) center \(center) scale \(scale)",
                                         untrained: ["moving_mean", "moving_variance"])
        }
    }

    func testTrainingNormalisesAndMovesTheStatisticsAsKeras() throws {
        let layer = BatchNormalization(momentum: 0.9, epsilon: 0.001)
        // Two channels; channel 0: 1, 3, 5, 7 (mean 4, variance 5); channel 1: all 2 (variance 0).
        let h = try LayerHarness(layer, inputShape: [2], batch: 4, input: [1, 2, 3, 2, 5, 2, 7, 2], seed: 81)
        h.parameters[0].fill([1, 1])       // gamma
        h.parameters[1].fill([0, 0])       // beta
        h.parameters[2].fill([0, 0])       // moving mean
        h.parameters[3].fill([1, 1])       // moving variance
        layer.begin(training(batch: 4), layer: 0)
        _ = h.loss()
        let out = h.output.array
        XCTAssertEqual(out[0], -3 / (5.001 as Float).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(out[1], 0, accuracy: 1e-6)
        XCTAssertEqual(h.parameters[2].array[0], 0.4, accuracy: 1e-6, "0.9 * 0 + 0.1 * mean")
        XCTAssertEqual(h.parameters[2].array[1], 0.2, accuracy: 1e-6)
        XCTAssertEqual(h.parameters[3].array[0], 0.9 + 0.5, accuracy: 1e-6, "0.9 * 1 + 0.1 * 5")
        XCTAssertEqual(h.parameters[3].array[1], 0.9, accuracy: 1e-6)
        // Inference uses the moving statistics and leaves them alone.
        layer.begin(nil, layer: 0)
        _ = h.loss()
        XCTAssertEqual(h.output.array[0], (1 - 0.4) / (1.4 + 0.001 as Float).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(h.parameters[2].array[0], 0.4, accuracy: 1e-6, "inference does not move the statistics")
    }

    /// Two "ranks" hold halves of one batch; a reducer that adds both halves' sums gives each half the
    /// statistics of the whole batch, so its outputs equal the whole batch's rows.
    func testHalvesReducedTogetherNormaliseAsTheWholeBatch() throws {
        var rng = SeededGenerator(seed: 82)
        let input = (0..<8 * 3).map { _ in rng.nextFloat(in: -2, 2) }
        let whole = BatchNormalization()
        let w = try LayerHarness(whole, inputShape: [3], batch: 8, input: input, seed: 83)
        w.parameters[0].fill([1.5, -0.5, 2])
        w.parameters[1].fill([0.1, 0.2, -0.3])
        whole.begin(training(batch: 8), layer: 0)
        _ = w.loss()

        /// Adds the other half's sums, computed on the side by a twin layer.
        final class Pair: BatchReducer {
            var other: [Double] = []
            func sum(_ values: UnsafeMutableBufferPointer<Double>) {
                for i in 0..<values.count { values[i] += other[i] }
            }
        }
        let firstHalf = Array(input[..<12]), secondHalf = Array(input[12...])
        func sums(_ rows: [Float]) -> [Double] {
            var s = [Double](repeating: 0, count: 7)
            for r in 0..<rows.count / 3 {
                for c in 0..<3 { s[c] += Double(rows[r * 3 + c]); s[3 + c] += Double(rows[r * 3 + c]) * Double(rows[r * 3 + c]) }
            }
            s[6] = Double(rows.count / 3)
            return s
        }
        let pair = Pair()
        pair.other = sums(secondHalf)
        let half = BatchNormalization()
        let h = try LayerHarness(half, inputShape: [3], batch: 4, input: firstHalf, seed: 83)
        h.parameters[0].fill([1.5, -0.5, 2])
        h.parameters[1].fill([0.1, 0.2, -0.3])
        half.begin(training(pair, batch: 4), layer: 0)
        _ = h.loss()
        let got = h.output.array, want = Array(w.output.array[..<12])
        for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    // MARK: - axis: the channel axis only (-1, or the input's rank counting the batch as 0)

    /// axis 3 on an image and axis 1 on a vector are the channel axis: the same layer as axis -1,
    /// bit for bit in training (the same sums in the same order), with the same gradients.
    func testChannelAxisByNumberIsTheLastAxis() throws {
        for (shape, axis) in [([3, 2, 4], 3), ([5], 1)] {
            var outputs: [[Float]] = []
            for layerAxis in [-1, axis] {
                let layer = BatchNormalization(axis: layerAxis)
                let h = try LayerHarness(layer, inputShape: shape, batch: 4, seed: 90)
                XCTAssertEqual(h.outputShape, shape)
                XCTAssertEqual(h.parameterShapes.map { $0 }, Array(repeating: [shape.last!], count: 4))
                layer.begin(training(batch: 4), layer: 0)
                _ = h.loss()
                outputs.append(h.output.array)
                GradientChecker().checkLayer(h, "batch normalization \(shape) axis \(layerAxis)", untrained: ["moving_mean", "moving_variance"])
            }
            XCTAssertEqual(outputs[0], outputs[1], "axis \(axis) on \(shape)")
        }
    }

    func testOtherAxesAreRefusedAtBuild() {
        for (shape, axis) in [([4, 4, 3], 2), ([4, 4, 3], 1), ([4, 4, 3], 0), ([4, 4, 3], 4), ([4, 4, 3], -2), ([6], 3), ([6], 2)] {
            XCTAssertThrowsError(try BatchNormalization(axis: axis).build(inputShape: shape), "axis \(axis) on \(shape)") { error in
                let message = "\(error)"
                for word in ["axis is \(axis)", "-1", "\(shape.count)"] { XCTAssertTrue(message.contains(word), "'\(message)' should say '\(word)'") }
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
    }

    func testAxisInAModel() throws {
        let bn = { (options: String) in [KerasModel.layer("BatchNormalization", "b", options)] }
        for options in ["", #""axis": -1"#, #""axis": 3"#, #""axis": [3]"#, #""axis": [-1]"#, #""axis": null"#] {
            let model = try KerasModel.build(bn(options), input: "[null, 4, 4, 2]")
            XCTAssertEqual((model.layers.first as? BatchNormalization)?.axis, options.contains("3") ? 3 : -1, options)
            XCTAssertEqual(model.parameters.entries.map(\.shape), Array(repeating: [2], count: 4), options)
        }
        XCTAssertEqual((try KerasModel.build(bn(#""axis": 1"#), input: "[null, 6]").layers.first as? BatchNormalization)?.axis, 1)
        // A number that is an axis of the image but not its channels: refused when the shape is known.
        assertModelError(bn(#""axis": 2"#), input: "[null, 4, 4, 2]", saying: "layer 'b'", "axis is 2", "-1")
        assertModelError(bn(#""axis": 1"#), input: "[null, 4, 4, 2]", saying: "layer 'b'", "axis is 1", "-1")
        assertModelError(bn(#""axis": 3"#), input: "[null, 6]", saying: "layer 'b'", "axis is 3", "-1")
        // Never an axis of a supported input: refused while reading the options.
        for value in ["0", "4", "-2", "[1, 2]", #""channels""#, "1.5", "[]"] {
            assertModelError(bn(#""axis": \#(value)"#), input: "[null, 4, 4, 2]", saying: "'b' (BatchNormalization)", "option axis is \(value)", "-1")
        }
    }
}
