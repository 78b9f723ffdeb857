import NN
import XCTest

/// GlobalMaxPooling2D: the channel maxima, the gradient to the maximum (split among ties as
/// TensorFlow's reduce_max gradient does), keepdims as [1, 1, C].
final class GlobalMaxPooling2DTests: XCTestCase {
    func testGradientWithDistinctValues() throws {
        var rng = SeededGenerator(seed: 81)
        // Spacing 0.05 > the step 1e-2 twice, so no finite difference changes which value is the maximum.
        let input = rng.distinctFloats(2 * 3 * 4 * 2, spacing: 0.05, offset: -1)
        let h = try LayerHarness(GlobalMaxPooling2D(), inputShape: [3, 4, 2], batch: 2, input: input, seed: 81)
        XCTAssertEqual(h.outputShape, [2])
        GradientChecker().checkLayer(h, "global max pooling")
    }

    func testForwardValuesKeepdimsAndTies() throws {
        // One image 2 x 2, two channels: channel 0 has distinct values, channel 1 ties at 3 twice.
        let h = try LayerHarness(GlobalMaxPooling2D(keepDimensions: true), inputShape: [2, 2, 2], batch: 1,
                                 input: [1, 3, -2, 0, 5, 3, 4, 1], seed: 82)
        XCTAssertEqual(h.outputShape, [1, 1, 2])
        h.upstream.fill([2, 6])
        let gradients = h.analyticGradients()
        XCTAssertEqual(h.output.array, [5, 3])
        XCTAssertEqual(gradients.input, [0, 3, 0, 0, 2, 3, 0, 0], "channel 0's to its maximum, channel 1's split over its two 3s")
    }

    func testKerasOptions() throws {
        let json = ModelDescriptionTests.keras([ModelDescriptionTests.layer("GlobalMaxPooling2D", "g", #""keepdims": true"#),
                                                ModelDescriptionTests.layer("Flatten", "f")], input: "[null, 4, 4, 3]")
        XCTAssertEqual(try ModelDescription(json: json, source: "m.json").build(gemm: testGEMM).outputShapes, [[1, 1, 3], [3]])
        let bad = ModelDescriptionTests.keras([ModelDescriptionTests.layer("GlobalMaxPooling2D", "g", #""keepdims": 1"#)])
        XCTAssertThrowsError(try ModelDescription(json: bad, source: "m.json").build(gemm: testGEMM)) { error in
            XCTAssertTrue("\(error)".contains("'g' (GlobalMaxPooling2D)") && "\(error)".contains("keepdims"), "\(error)")
        }
    }
}
