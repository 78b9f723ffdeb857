import NN
import XCTest

/// Rescaling: `x * scale + offset`, and a Rescaling that reads the model's input sees the pixels
/// 0-255 a Keras model is given (the loader's pixels are b / 255).
final class RescalingTests: XCTestCase {
    private func model(_ layers: [String]) throws -> Sequential {
        let model = try ModelDescription(json: ModelDescriptionTests.keras(layers, input: "[null, 2, 2, 1]"), source: "m.json").build(gemm: testGEMM)
        model.reserve(maxBatch: 1)
        return model
    }

    func testGradient() throws {
        let h = try LayerHarness(Rescaling(scale: -1.5, offset: 0.25), inputShape: [2, 3, 2], batch: 2, seed: 80)
        XCTAssertTrue(h.parameterNames.isEmpty)
        GradientChecker().checkLayer(h, "rescaling")
    }

    func testALeadingRescalingSeesRawPixels() throws {
        let bytes: [Float] = [0, 1, 128, 255]
        let input = FloatBuffer(bytes.map { $0 / 255 })
        let leading = try model([ModelDescriptionTests.layer("Rescaling", "r", #""scale": 0.5, "offset": -1.0"#),
                                 ModelDescriptionTests.layer("Flatten", "f")])
        let raw = leading.forward(input.pointer, batch: 1)
        for (k, b) in bytes.enumerated() { XCTAssertEqual(raw[k], b * 0.5 - 1, accuracy: 1e-5 * max(1, b), "pixel \(b)") }

        let later = try model([ModelDescriptionTests.layer("Flatten", "f"),
                               ModelDescriptionTests.layer("Rescaling", "r", #""scale": 0.5, "offset": -1.0"#)])
        let scaled = later.forward(input.pointer, batch: 1)
        for (k, b) in bytes.enumerated() { XCTAssertEqual(scaled[k], b / 255 * 0.5 - 1, accuracy: 1e-6, "pixel \(b) after Flatten") }
    }

    func testKerasUsualScaleGivesTheLoadersPixels() throws {
        let leading = try model([ModelDescriptionTests.layer("Rescaling", "r", #""scale": 0.00392156862745098, "offset": 0.0"#),
                                 ModelDescriptionTests.layer("Flatten", "f")])
        let input = FloatBuffer([0, 7, 200, 255].map { Float($0) / 255 })
        let output = leading.forward(input.pointer, batch: 1)
        for k in 0..<4 { XCTAssertEqual(output[k], input.pointer[k], accuracy: 1e-7) }
    }

    func testMalformedOptions() {
        for (options, words) in [("", ["scale is missing"]), (#""scale": [1.0, 2.0]"#, ["scale", "one number"]),
                                 (#""scale": 1.0, "offset": [0.5]"#, ["offset", "one number"]),
                                 (#""scale": "half""#, ["scale", "expected a number"]), (#""scale": 1.0, "shift": 1"#, ["shift"])] {
            XCTAssertThrowsError(try model([ModelDescriptionTests.layer("Rescaling", "r", options)]), options) { error in
                for word in ["'r' (Rescaling)"] + words { XCTAssertTrue("\(error)".contains(word), "\(error) should say \(word)") }
            }
        }
    }
}
