import NN
import XCTest

/// Keras's PReLU: forward against `x > 0 ? x : alpha * x` with alpha broadcast over the shared axes, finite-difference
/// gradients of the input and alpha (inputs >= 0.05 from the kink at 0, step 1e-2: piecewise linear, so exact), and
/// Keras's options (`shared_axes` counted with the batch as 0; alpha's shape with 1 on the shared axes, as Keras's).
final class PReLUTests: XCTestCase {
    func testForwardBroadcastsAlphaOverSharedAxes() throws {
        let h = try LayerHarness(PReLU(sharedAxes: [0, 1]), inputShape: [2, 3, 4], batch: 2, seed: 120)
        XCTAssertEqual(h.layer.parameterShapes.map(\.shape), [[1, 1, 4]])
        _ = h.loss()
        let (x, alpha, y) = (h.input.array, h.parameters[0].array, h.output.array)
        for i in 0..<x.count { XCTAssertEqual(y[i], x[i] > 0 ? x[i] : alpha[i % 4] * x[i]) }
        let unshared = PReLU()
        XCTAssertEqual(try unshared.build(inputShape: [2, 3, 4]), [2, 3, 4])
        XCTAssertEqual(unshared.parameterShapes.map(\.shape), [[2, 3, 4]])
        let middle = PReLU(sharedAxes: [1])
        _ = try middle.build(inputShape: [2, 3, 4])
        XCTAssertEqual(middle.parameterShapes.map(\.shape), [[2, 1, 4]])
    }

    func testGradients() throws {
        for (k, shared) in [Set<Int>(), [0, 1], [1], [0, 1, 2]].enumerated() {
            var rng = SeededGenerator(seed: 121 + UInt64(k))
            let input = rng.floats(2 * 24, in: -1, 1, awayFrom: [0], margin: 0.05)
            let h = try LayerHarness(PReLU(sharedAxes: shared), inputShape: [2, 3, 4], batch: 2, input: input, seed: 125 + UInt64(k))
            XCTAssertEqual(h.parameterNames, ["alpha"])
            GradientChecker().checkLayer(h, "prelu shared \(shared.sorted())")
        }
    }

    func testKerasOptionsAndErrors() throws {
        let model = try KerasModel.build([KerasModel.layer("PReLU", "p", #""shared_axes": [1, 2], "alpha_initializer": {"class_name": "Constant", "config": {"value": 0.25}}"#)])
        XCTAssertEqual(model.parameters.entries.map(\.shape), [[1, 1, 1]])
        var rng = SeededGenerator(seed: 1)
        model.parameters.initialize(using: &rng)
        XCTAssertEqual(model.parameters.values.array, [0.25])
        let zeros = try KerasModel.build([KerasModel.layer("PReLU", "p")])
        zeros.parameters.initialize(using: &rng)
        XCTAssertEqual(zeros.parameters.entries.map(\.shape), [[8, 8, 1]])
        XCTAssertTrue(zeros.parameters.values.array.allSatisfy { $0 == 0 }, "Keras's default: zeros")
        XCTAssertEqual((try KerasModel.build([KerasModel.layer("PReLU", "p", #""shared_axes": 3"#)])).parameters.entries.map(\.shape), [[8, 8, 1]])
        assertModelError([KerasModel.layer("PReLU", "p", #""shared_axes": [0]"#)], saying: "'p' (PReLU)", "shared_axes is [0]")
        assertModelError([KerasModel.layer("PReLU", "p", #""shared_axes": [4]"#)], saying: "layer 'p'", "shares axis 4")
        assertModelError([KerasModel.layer("PReLU", "p", #""alpha_constraint": {"class_name": "NonNeg"}"#)], saying: "'p' (PReLU)", "alpha_constraint")
        assertModelError([KerasModel.layer("PReLU", "p", #""alpha_regularizer": {"class_name": "L2"}"#)], saying: "'p' (PReLU)", "alpha_regularizer")
    }
}
