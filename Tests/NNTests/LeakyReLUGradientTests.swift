import NN
import XCTest

/// Finite-difference checks of LeakyReLU and ReLU (inputs kept >= 0.1 away from the kink at 0,
/// the step is 1e-2, so no step crosses it).
final class LeakyReLUGradientTests: XCTestCase {
    private func harness(_ layer: LeakyReLU, seed: UInt64) throws -> LayerHarness {
        var rng = SeededGenerator(seed: seed)
        return try LayerHarness(layer, inputShape: [3, 4, 2], batch: 2,
                                input: rng.floatsAwayFromZero(48, margin: 0.1), seed: seed)
    }

    func testLeakyGradient() throws {
        let h = try harness(LeakyReLU(alpha: 0.2), seed: 30)
        XCTAssertTrue(h.parameterNames.isEmpty)
        GradientChecker().checkLayer(h, "leaky relu 0.2")
    }

    func testReLUGradient() throws {
        let h = try harness(LeakyReLU(alpha: 0), seed: 31)
        GradientChecker().checkLayer(h, "relu")
    }

    func testForwardValues() throws {
        let h = try LayerHarness(LeakyReLU(alpha: 0.2), inputShape: [4], batch: 1, input: [-2, -0.5, 0.5, 3], seed: 32)
        _ = h.loss()
        XCTAssertEqual(h.output.array, [-0.4, -0.1, 0.5, 3])
        let r = try LayerHarness(LeakyReLU(alpha: 0), inputShape: [4], batch: 1, input: [-2, -0.5, 0.5, 3], seed: 33)
        _ = r.loss()
        XCTAssertEqual(r.output.array, [0, 0, 0.5, 3])
        XCTAssertEqual(LeakyReLU().alpha, 0.3, "Keras's default negative slope")
    }
}
