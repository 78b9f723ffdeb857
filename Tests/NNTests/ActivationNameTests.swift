import Foundation
import NN
import XCTest

/// The Keras `activation` names (`activationLayers` in LayerRegistry.swift) on Activation, Dense and
/// Conv2D: which layer each name becomes, the values a model computes with it (a Dense of ones, so
/// the pre-activation is the input's sum, exact in float; outputs within 2e-6 relative of the Double
/// formula, as SmoothActivationTests), and the one-line error for a name that has no implementation.
final class ActivationNameTests: XCTestCase {
    static let allowed = ["linear", "relu", "relu6", "softmax", "sigmoid", "tanh", "silu", "swish", "hard_sigmoid", "hard_silu", "hard_swish",
                          "gelu"]

    /// The layers an Activation of `name` becomes (after a Flatten, so the softmax is last).
    private func layers(_ name: String) throws -> [Layer] {
        let model = try KerasModel.build([KerasModel.layer("Flatten", "f"), KerasModel.layer("Activation", "a", #""activation": "\#(name)""#)])
        return Array(model.layers.dropFirst())
    }

    func testEveryNameBecomesItsLayer() throws {
        XCTAssertTrue(try layers("linear").isEmpty)
        XCTAssertTrue(try layers("softmax").isEmpty, "the final softmax is kept out of the logits")
        XCTAssertEqual((try layers("relu").first as? LeakyReLU)?.alpha, 0)
        let six = try XCTUnwrap(try layers("relu6").first as? ClippedReLU)
        XCTAssertEqual([six.maxValue, six.threshold, six.negativeSlope], [6, 0, 0])
        let smooth: [String: SmoothActivation.Function] = [
            "sigmoid": .sigmoid, "tanh": .tanh, "silu": .silu, "swish": .silu,
            "hard_sigmoid": .hardSigmoid, "hard_silu": .hardSilu, "hard_swish": .hardSilu, "gelu": .gelu,
        ]
        for (name, function) in smooth {
            let built = try layers(name)
            XCTAssertEqual(built.count, 1, name)
            XCTAssertEqual((built.first as? SmoothActivation)?.function, function, name)
        }
        XCTAssertEqual(Set(smooth.keys).union(["linear", "relu", "relu6", "softmax"]), Set(Self.allowed))
    }

    func testDenseAndConv2DTakeEveryName() throws {
        for name in Self.allowed {
            let model = try KerasModel.build([
                KerasModel.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "activation": "\#(name == "softmax" ? "linear" : name)""#),
                KerasModel.layer("Flatten", "f"),
                KerasModel.layer("Dense", "d", #""units": 3, "activation": "\#(name)""#),
            ])
            let adds = !["linear", "softmax"].contains(name)
            XCTAssertEqual(model.layerNames, ["c"] + (adds ? ["c_activation"] : []) + ["f", "d"] + (adds ? ["d_activation"] : []), name)
            XCTAssertEqual(model.outputShapes.last, [3], name)
        }
    }

    /// Dense with a ones kernel and zero bias: each output is the activation of the input's sum.
    func testValuesThroughADenseLayer() throws {
        let input: [Float] = [2, 1, 0.5, -0.5, 0.5, -0.25, -3, -1, 0.25]   // sums 3.5, -0.25, -3.75
        let sums: [Double] = [3.5, -0.25, -3.75]
        let formulas: [String: (Double) -> Double] = [
            "linear": { $0 }, "relu": { max($0, 0) }, "relu6": { min(max($0, 0), 6) },
            "sigmoid": SmoothActivationTests.sigmoid, "tanh": { Foundation.tanh($0) },
            "silu": { $0 * SmoothActivationTests.sigmoid($0) }, "swish": { $0 * SmoothActivationTests.sigmoid($0) },
            "hard_sigmoid": { SmoothActivationTests.relu6($0 + 3) / 6 }, "hard_silu": { $0 * SmoothActivationTests.relu6($0 + 3) / 6 },
            "hard_swish": { $0 * SmoothActivationTests.relu6($0 + 3) / 6 },
            "gelu": { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) },
        ]
        for (name, formula) in formulas {
            let model = try KerasModel.build([KerasModel.layer("Dense", "d", #""units": 2, "kernel_initializer": "ones", "activation": "\#(name)""#)],
                                             input: "[null, 3]")
            let got = KerasModel.infer(model, input, batch: 3)
            assertClose(got, sums.flatMap { [formula($0), formula($0)] }, relative: 2e-6, absolute: 1e-7, name)
        }
    }

    func testUnknownNamesListTheAllowedOnes() {
        let cases: [(name: String, className: String, layers: [String])] = [
            ("mish", "Activation", [KerasModel.layer("Activation", "a", #""activation": "mish""#)]),
            ("elu", "Dense", [KerasModel.layer("Flatten", "f"), KerasModel.layer("Dense", "a", #""units": 2, "activation": "elu""#)]),
            ("relu7", "Conv2D", [KerasModel.layer("Conv2D", "a", #""filters": 2, "kernel_size": 3, "activation": "relu7""#)]),
        ]
        for c in cases {
            assertModelError(c.layers, saying: "'a' (\(c.className))", "option activation is \"\(c.name)\"", "supported:",
                             "linear, relu, relu6, softmax")
            // The list after "supported: " is exactly the allowed names.
            XCTAssertThrowsError(try KerasModel.build(c.layers)) { error in
                let listed = "\(error)".components(separatedBy: "supported: ").last!.components(separatedBy: ", ")
                XCTAssertEqual(listed.sorted(), Self.allowed.sorted(), "\(error)")
            }
        }
        assertModelError([KerasModel.layer("Activation", "a", #""activation": 3"#)], saying: "'a' (Activation)", "activation is 3", "supported:")
        assertModelError([KerasModel.layer("Activation", "a", #""activation": {"class_name": "Tanh"}"#)], saying: "'a' (Activation)", "activation")
    }
}
