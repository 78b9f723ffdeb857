import Foundation
import NN
import XCTest

/// Keras's RMSNormalization (`x * rsqrt(mean(x^2) + epsilon) * scale`) and UnitNormalization
/// (`x * min(rsqrt(sum(x^2)), 1e12)`) over the last axis: forward against the formulas in Double, finite-difference
/// gradients (smooth away from x = 0; inputs uniform in [-1, 1), RMS ~0.58, so the step 1e-2 moves the statistics
/// by ~2%: truncation ~1e-5, under the checker's 1e-3), the cap of UnitNormalization at a zero vector, and options.
final class RMSAndUnitNormalizationTests: XCTestCase {
    func testRMSNormalizationForward() throws {
        let h = try LayerHarness(RMSNormalization(epsilon: 1e-6), inputShape: [2, 2, 6], batch: 2, seed: 110)
        XCTAssertEqual(h.parameterNames, ["scale"], "Keras's name")
        _ = h.loss()
        let (x, scale, y) = (h.input.array.map(Double.init), h.parameters[0].array, h.output.array)
        for row in 0..<8 {
            let values = x[row * 6..<row * 6 + 6]
            let r = 1 / (values.reduce(0) { $0 + $1 * $1 } / 6 + 1e-6).squareRoot()
            for k in 0..<6 {
                XCTAssertEqual(Double(y[row * 6 + k]), values[row * 6 + k] * r * Double(scale[k]), accuracy: 2e-6, "position \(row), channel \(k)")
            }
        }
    }

    func testUnitNormalizationForward() throws {
        let h = try LayerHarness(UnitNormalization(), inputShape: [3, 5], batch: 2, seed: 111)
        XCTAssertTrue(h.parameterNames.isEmpty)
        _ = h.loss()
        let (x, y) = (h.input.array.map(Double.init), h.output.array)
        for row in 0..<6 {
            let values = x[row * 5..<row * 5 + 5]
            let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for k in 0..<5 { XCTAssertEqual(Double(y[row * 5 + k]), values[row * 5 + k] / norm, accuracy: 1e-6) }
            XCTAssertEqual(y[row * 5..<row * 5 + 5].reduce(0) { $0 + Double($1) * Double($1) }, 1, accuracy: 1e-6, "unit length")
        }
    }

    /// A zero vector stays zero, and its gradient is the capped scale 1e12 times the upstream's (Keras's
    /// `minimum(rsqrt(0), 1 / epsilon)`), not NaN.
    func testUnitNormalizationOfZero() throws {
        let h = try LayerHarness(UnitNormalization(), inputShape: [3], batch: 1, input: [0, 0, 0], seed: 112)
        h.upstream.fill([1, -2, 0.5])
        let gradient = h.analyticGradients().input
        XCTAssertEqual(h.output.array, [0, 0, 0])
        XCTAssertEqual(gradient, [1e12, -2e12, 0.5e12])
    }

    func testGradients() throws {
        GradientChecker().checkLayer(try LayerHarness(RMSNormalization(), inputShape: [3, 2, 5], batch: 2, seed: 113), "rms normalization")
        GradientChecker().checkLayer(try LayerHarness(RMSNormalization(epsilon: 0.1), inputShape: [7], batch: 3, seed: 114), "rms normalization eps 0.1")
        GradientChecker().checkLayer(try LayerHarness(UnitNormalization(), inputShape: [3, 2, 5], batch: 2, seed: 115), "unit normalization")
    }

    func testKerasOptionsAndErrors() throws {
        let model = try KerasModel.build([KerasModel.layer("RMSNormalization", "r", #""axis": -1, "epsilon": 1e-05"#),
                                          KerasModel.layer("UnitNormalization", "u", #""axis": [3]"#)])
        let rms = try XCTUnwrap(model.layers[0] as? RMSNormalization)
        XCTAssertEqual(rms.epsilon, 1e-5)
        XCTAssertEqual((model.layers[1] as? UnitNormalization)?.axis, 3)
        var rng = SeededGenerator(seed: 1)
        model.parameters.initialize(using: &rng)
        XCTAssertEqual(model.parameters.values.array, [1], "scale starts at ones")
        XCTAssertEqual((try KerasModel.build([KerasModel.layer("RMSNormalization", "r")]).layers[0] as? RMSNormalization)?.epsilon, 1e-6,
                       "Keras's default epsilon")
        let cases: [(String, String, [String])] = [
            ("RMSNormalization", #""axis": 2"#, ["axis is 2", "-1"]),
            ("RMSNormalization", #""axis": [1, 2]"#, ["axis is [1, 2]", "last (channel) axis"]),
            ("RMSNormalization", #""epsilon": 0"#, ["epsilon is 0"]),
            ("UnitNormalization", #""axis": 1"#, ["axis is 1", "-1"]),
            ("UnitNormalization", #""order": 1"#, ["option order"]),
        ]
        for (className, options, words) in cases {
            XCTAssertThrowsError(try KerasModel.build([KerasModel.layer(className, "n", options)]), options) { error in
                for word in ["layer 'n'"] + words { XCTAssertTrue("\(error)".contains(word), "\(error) should say \(word)") }
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}
