import Foundation
import NN
import XCTest

/// ELU and SELU against Keras 3's formulas in Double (elu(x) = x for x > 0, else alpha (exp(x) - 1); selu = scale
/// elu with Klambauer et al.'s alpha and scale), their backward pass against the closed-form derivative and finite
/// differences (inputs >= 0.05 from the kink at 0, step 1e-2; truncation |f'''| h^2 / 6 <= 3e-5, under the checker's
/// 1e-3), and Keras's `ELU` layer. Forward tolerance 2e-6 relative + 1e-7 absolute: one float `expm1` and a product.
final class ELUTests: XCTestCase {
    static let seluAlpha = 1.6732632423543772848170429916717, seluScale = 1.0507009873554804934193349852946

    static func elu(_ x: Double) -> Double { elu(x, alpha: 1) }
    static func elu(_ x: Double, alpha: Double) -> Double { x > 0 ? x : alpha * Foundation.expm1(x) }

    private let cases: [(name: String, layer: () -> ELU, alpha: Double, scale: Double)] = [
        ("elu", { ELU() }, 1, 1), ("elu alpha 0.3", { ELU(alpha: 0.3) }, 0.3, 1), ("selu", { ELU.selu() }, seluAlpha, seluScale),
    ]

    func testForwardAndDerivativeMatchTheFormulas() throws {
        var rng = SeededGenerator(seed: 540)
        let input = rng.floats(200, in: -9, 9) + [0, -1e-4, 1e-4, -30, 30]
        for c in cases {
            let h = try LayerHarness(c.layer(), inputShape: [input.count], batch: 1, input: input, seed: 0)
            h.upstream.fill(Array(repeating: 1, count: input.count))
            let gradient = h.analyticGradients().input
            assertClose(h.output.array, input.map { c.scale * Self.elu(Double($0), alpha: c.alpha) }, relative: 2e-6, absolute: 1e-7, c.name)
            // Keras's slope at 0 is the negative side's (TensorFlow's `x > 0`).
            assertClose(gradient, input.map { c.scale * ($0 > 0 ? 1 : c.alpha * Foundation.exp(Double($0))) }, relative: 2e-6,
                        absolute: 1e-7, "\(c.name) derivative")
        }
    }

    func testGradients() throws {
        for (k, c) in cases.enumerated() {
            var rng = SeededGenerator(seed: 550 + UInt64(k))
            let input = rng.floats(48, in: -3, 3, awayFrom: [0], margin: 0.05)
            let h = try LayerHarness(c.layer(), inputShape: [2, 3, 4], batch: 2, input: input, seed: 560 + UInt64(k))
            XCTAssertTrue(h.parameterNames.isEmpty)
            GradientChecker().checkLayer(h, c.name)
        }
    }

    func testKerasLayer() throws {
        let model = try KerasModel.build([KerasModel.layer("Flatten", "f"), KerasModel.layer("ELU", "e", #""alpha": 0.5"#)], input: "[null, 2, 2, 1]")
        let elu = try XCTUnwrap(model.layers.last as? ELU)
        XCTAssertEqual([elu.alpha, elu.scale], [0.5, 1])
        XCTAssertEqual((try KerasModel.build([KerasModel.layer("ELU", "e")]).layers.last as? ELU)?.alpha, 1, "Keras's default alpha")
        XCTAssertEqual(model.layerNames.last, "e")
        XCTAssertEqual([ELU().kind, ELU.selu().kind], ["elu", "selu"])
        assertModelError([KerasModel.layer("ELU", "e", #""alpha": "big""#)], saying: "'e' (ELU)", "option alpha is \"big\"", "expected a number")
        assertModelError([KerasModel.layer("ELU", "e", #""alpah": 1"#)], saying: "'e' (ELU)", "option alpah")
    }
}
