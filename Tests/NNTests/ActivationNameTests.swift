import Foundation
import NN
import XCTest

/// The Keras `activation` names (`activationLayers` in LayerRegistry.swift) on Activation, Dense and
/// Conv2D: which layer each name becomes, the values a model computes with it (a Dense of ones, so
/// the pre-activation is the input's sum, exact in float; outputs within 2e-6 relative of the Double
/// formula, as SmoothActivationTests), and the one-line error for a name that has no implementation.
final class ActivationNameTests: XCTestCase {
    static let allowed = ["linear", "relu", "leaky_relu", "relu6", "elu", "celu", "selu", "softmax", "swish", "hard_swish"]
        + SmoothActivation.Function.allCases.map(\.rawValue)

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
        XCTAssertEqual((try layers("leaky_relu").first as? LeakyReLU)?.alpha, 0.2, "Keras's default negative_slope")
        for name in ["elu", "celu"] {
            let elu = try XCTUnwrap(try layers(name).first as? ELU, name)
            XCTAssertEqual([elu.alpha, elu.scale], [1, 1], name)
        }
        let selu = try XCTUnwrap(try layers("selu").first as? ELU)
        XCTAssertEqual([selu.alpha, selu.scale], [1.67326324, 1.05070098])
        var smooth = Dictionary(uniqueKeysWithValues: SmoothActivation.Function.allCases.map { ($0.rawValue, $0) })
        (smooth["swish"], smooth["hard_swish"]) = (.silu, .hardSilu)
        XCTAssertEqual(smooth["hard_sigmoid"], .hardSigmoid)
        for (name, function) in smooth {
            let built = try layers(name)
            XCTAssertEqual(built.count, 1, name)
            XCTAssertEqual((built.first as? SmoothActivation)?.function, function, name)
        }
        XCTAssertEqual(Set(smooth.keys).union(["linear", "relu", "leaky_relu", "relu6", "elu", "celu", "selu", "softmax"]), Set(Self.allowed))
        XCTAssertEqual(Self.allowed.count, Set(Self.allowed).count)
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
        var formulas: [String: (Double) -> Double] = [
            "linear": { $0 }, "relu": { max($0, 0) }, "relu6": { min(max($0, 0), 6) }, "leaky_relu": { $0 > 0 ? $0 : 0.2 * $0 },
            "swish": { SmoothActivationTests.reference(.silu, $0) }, "hard_swish": { SmoothActivationTests.reference(.hardSilu, $0) },
            "elu": ELUTests.elu, "celu": ELUTests.elu, "selu": { ELUTests.seluScale * ELUTests.elu($0, alpha: ELUTests.seluAlpha) },
        ]
        for function in SmoothActivation.Function.allCases {
            formulas[function.rawValue] = { SmoothActivationTests.reference(function, $0) }
        }
        XCTAssertEqual(Set(formulas.keys), Set(Self.allowed).subtracting(["softmax"]))
        for (name, formula) in formulas {
            let model = try KerasModel.build([KerasModel.layer("Dense", "d", #""units": 2, "kernel_initializer": "ones", "activation": "\#(name)""#)],
                                             input: "[null, 3]")
            let got = KerasModel.infer(model, input, batch: 3)
            assertClose(got, sums.flatMap { [formula($0), formula($0)] }, relative: 2e-6, absolute: 1e-7, name)
        }
    }

    func testUnknownNamesListTheAllowedOnes() {
        let cases: [(name: String, className: String, layers: [String])] = [
            ("glu", "Activation", [KerasModel.layer("Activation", "a", #""activation": "glu""#)]),
            ("log_softmax", "Dense", [KerasModel.layer("Flatten", "f"), KerasModel.layer("Dense", "a", #""units": 2, "activation": "log_softmax""#)]),
            ("relu7", "Conv2D", [KerasModel.layer("Conv2D", "a", #""filters": 2, "kernel_size": 3, "activation": "relu7""#)]),
        ]
        for c in cases {
            assertModelError(c.layers, saying: "'a' (\(c.className))", "option activation is \"\(c.name)\"", "supported:",
                             "linear, relu, leaky_relu, relu6, elu, celu, selu, softmax")
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
