import Foundation
import NN
import XCTest

/// Keras's LayerNormalization over the last axis (ConvNeXt's) and ConvNeXt's LayerScale: forward against the
/// formula in Double, finite-difference gradients, and malformed options.
final class LayerNormalizationTests: XCTestCase {
    func testForwardNormalisesEachPositionOverItsChannels() throws {
        let layer = LayerNormalization(epsilon: 1e-6)
        let h = try LayerHarness(layer, inputShape: [2, 2, 6], batch: 2, seed: 100)
        XCTAssertEqual(h.parameterNames, ["gamma", "beta"])
        _ = h.loss()
        let (x, gamma, beta, y) = (h.input.array.map(Double.init), h.parameters[0].array, h.parameters[1].array, h.output.array)
        for row in 0..<8 {
            let values = x[row * 6..<row * 6 + 6]
            let mean = values.reduce(0, +) / 6
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 6
            for k in 0..<6 {
                let expected = (values[row * 6 + k] - mean) / (variance + 1e-6).squareRoot() * Double(gamma[k]) + Double(beta[k])
                XCTAssertEqual(Double(y[row * 6 + k]), expected, accuracy: 1e-5, "position \(row), channel \(k)")
            }
        }
    }

    func testGradients() throws {
        for (center, scale) in [(true, true), (false, true), (true, false), (false, false)] {
            let h = try LayerHarness(LayerNormalization(epsilon: 1e-3, center: center, scale: scale), inputShape: [3, 2, 5], batch: 2, seed: 101)
            XCTAssertEqual(h.parameterNames, (scale ? ["gamma"] : []) + (center ? ["beta"] : []))
            GradientChecker().checkLayer(h, "layer normalization center \(center) scale \(scale)")
        }
        let flat = try LayerHarness(LayerNormalization(), inputShape: [7], batch: 3, seed: 102)
        GradientChecker().checkLayer(flat, "layer normalization on vectors")
    }

    func testLayerScaleMultipliesEachChannel() throws {
        let h = try LayerHarness(LayerScale(initialValue: 1e-6, channels: 4), inputShape: [2, 3, 4], batch: 2, seed: 103)
        XCTAssertEqual(h.parameterNames, ["variable"], "Keras's name for the unnamed weight")
        GradientChecker().checkLayer(h, "layer scale")
        _ = h.loss()
        for i in 0..<h.output.count { XCTAssertEqual(h.output.array[i], h.input.array[i] * h.parameters[0].array[i % 4]) }
        let model = try KerasModel.build([KerasModel.layer("LayerScale", "s", #""init_values": 1e-06, "projection_dim": 1"#)])
        var rng = SeededGenerator(seed: 1)
        model.parameters.initialize(using: &rng)
        XCTAssertEqual(model.parameters.values.pointer[0], 1e-6, "started at init_values")
    }

    func testMalformedOptions() {
        let cases: [(String, String, [String])] = [
            ("LayerNormalization", #""axis": [1, 2, 3]"#, ["axis is [1, 2, 3]", "last (channel) axis"]),
            ("LayerNormalization", #""axis": 2"#, ["axis is 2", "-1"]),
            ("LayerNormalization", #""rms_scaling": true"#, ["rms_scaling"]),
            ("LayerNormalization", #""epsilon": 0"#, ["epsilon"]),
            ("LayerNormalization", #""center": "yes""#, ["center", "true or false"]),
            ("LayerNormalization", #""gamma_initializer": "orthogonal""#, ["gamma_initializer"]),
            ("LayerNormalization", #""gamma_regularizer": {"class_name": "L2"}"#, ["gamma_regularizer"]),
            ("LayerScale", #""projection_dim": 1"#, ["init_values is missing"]),
            ("LayerScale", #""init_values": 1e-06"#, ["projection_dim is missing"]),
            ("LayerScale", #""init_values": 1e-06, "projection_dim": 3"#, ["projection_dim 3", "1 channels"]),
        ]
        for (className, options, words) in cases {
            XCTAssertThrowsError(try KerasModel.build([KerasModel.layer(className, "n", options)]), options) { error in
                for word in ["layer 'n'"] + words { XCTAssertTrue("\(error)".contains(word), "\(error) should say \(word)") }
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}
