import NN
import XCTest

/// Reshape: the same values under a new shape (one -1 inferred), the gradient passed back unchanged.
final class ReshapeTests: XCTestCase {
    private func description(_ options: String, input: String = "[null, 4, 4, 2]") throws -> ModelDescription {
        try ModelDescription(json: ModelDescriptionTests.keras([ModelDescriptionTests.layer("Reshape", "r", options)], input: input),
                             source: "m.json")
    }

    func testGradient() throws {
        let h = try LayerHarness(Reshape(targetShape: [-1, 4]), inputShape: [2, 3, 2], batch: 2, seed: 83)
        XCTAssertEqual(h.outputShape, [3, 4])
        GradientChecker().checkLayer(h, "reshape")
    }

    func testValuesKeepTheirOrder() throws {
        let h = try LayerHarness(Reshape(targetShape: [3, 2]), inputShape: [6], batch: 2, input: (0..<12).map(Float.init), seed: 84)
        _ = h.loss()
        XCTAssertEqual(h.output.array, (0..<12).map(Float.init))
    }

    func testKerasTargetShapes() throws {
        XCTAssertEqual(try description(#""target_shape": [8, 4]"#).build(gemm: testGEMM).outputShapes, [[8, 4]])
        XCTAssertEqual(try description(#""target_shape": [2, -1, 4]"#).build(gemm: testGEMM).outputShapes, [[2, 4, 4]])
        XCTAssertEqual(try description(#""target_shape": [-1]"#).build(gemm: testGEMM).outputShapes, [[32]])
        XCTAssertEqual(try description(#""target_shape": [2, 4, 2, -1]"#).build(gemm: testGEMM).outputShapes, [[2, 4, 2, 2]])
    }

    func testMalformedTargetShapes() {
        for (options, words) in [("", ["target_shape is missing"]), (#""target_shape": [5, 5]"#, ["does not fit", "32 values"]),
                                 (#""target_shape": [-1, -1]"#, ["at most one -1"]), (#""target_shape": [0, 32]"#, ["positive"]),
                                 (#""target_shape": [1, 2, 4, 2, 2]"#, ["one to four"]), (#""target_shape": "flat""#, ["target_shape"]),
                                 (#""target_shape": [-1, 5]"#, ["does not fit"]), (#""target_shape": [2.5, 2]"#, ["integers"]),
                                 (#""target_shape": [16777216, 16777216, 16777216]"#, ["does not fit"]),
                                 (#""target_shape": [16777216, 16777216, -1]"#, ["does not fit"]),
                                 (#""target_shape": [16777216, 16777216, 16777216, 16777216]"#, ["does not fit"])] {
            XCTAssertThrowsError(try description(options).build(gemm: testGEMM), options) { error in
                for word in ["'r'"] + words { XCTAssertTrue("\(error)".contains(word), "\(error) should say \(word)") }
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}
