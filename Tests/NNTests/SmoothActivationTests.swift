import CKernels
import Foundation
import NN
import XCTest

/// SmoothActivation (sigmoid, tanh, silu, hard_sigmoid, hard_silu, gelu) against Foundation's formulas in
/// Double, and its backward pass against finite differences.
///
/// Forward tolerance 2e-6 relative + 1e-7 absolute: the layer evaluates one float `exp`/`tanh` and
/// two or three float operations, a few ulps (1 ulp = 6e-8 relative). gelu's `1 + erf(x / sqrt 2)` cancels in
/// Float32 below x = -2 (as TensorFlow's float32 formula does): 1e-6 absolute there. Gradient checks: for the smooth
/// functions on [-4, 4] the central difference's truncation error is |f'''| h^2 / 6 <= 2 * 1e-4 / 6
/// per unit of upstream gradient, far under the checker's 1e-3; the hard functions are piecewise
/// polynomial of degree <= 2 (central differences exact) and their inputs stay >= 0.05 from the
/// kinks at -3 and 3 while the step is 1e-2.
final class SmoothActivationTests: XCTestCase {
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
    static func relu6(_ x: Double) -> Double { min(max(x, 0), 6) }

    /// Keras 3's definitions, independently of the layer.
    static func reference(_ function: SmoothActivation.Function, _ x: Double) -> Double {
        switch function {
        case .sigmoid: return sigmoid(x)
        case .tanh: return Foundation.tanh(x)
        case .silu: return x * sigmoid(x)
        case .hardSigmoid: return relu6(x + 3) / 6
        case .hardSilu: return x * relu6(x + 3) / 6
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        }
    }

    private func forward(_ function: SmoothActivation.Function, _ input: [Float]) throws -> LayerHarness {
        let h = try LayerHarness(SmoothActivation(function), inputShape: [input.count], batch: 1, input: input, seed: 0)
        _ = h.loss()
        return h
    }

    func testForwardMatchesTheFormulas() throws {
        var rng = SeededGenerator(seed: 500)
        let input = rng.floats(400, in: -9, 9) + [-3, 3, 0, -0.5, 0.5, -12, 12, -2.999, 3.001]
        for function in SmoothActivation.Function.allCases {
            let h = try forward(function, input)
            XCTAssertEqual(h.outputShape, [input.count])
            assertClose(h.output.array, input.map { Self.reference(function, Double($0)) }, relative: 2e-6,
                        absolute: function == .gelu ? 1e-6 : 1e-7,
                        "\(function.rawValue)")
        }
    }

    func testHardFunctionsExactly() throws {
        let input: [Float] = [-4, -3, -1.5, 0, 1.5, 3, 4]
        XCTAssertEqual(try forward(.hardSigmoid, input).output.array, [0, 0, 0.25, 0.5, 0.75, 1, 1])
        XCTAssertEqual(try forward(.hardSilu, input).output.array, [-0, -0, -0.375, 0, 1.125, 3, 4])
    }

    /// Far from 0, no overflow reaches the output or the gradient: exp(100) is inf in float.
    func testSaturationIsFinite() throws {
        let input: [Float] = [-100, -30, 30, 100]
        let expected: [SmoothActivation.Function: [Float]] = [
            .sigmoid: [0, 0, 1, 1], .tanh: [-1, -1, 1, 1], .silu: [0, 0, 30, 100], .hardSigmoid: [0, 0, 1, 1], .hardSilu: [0, 0, 30, 100],
            .gelu: [0, 0, 30, 100],
        ]
        for function in SmoothActivation.Function.allCases {
            let h = try LayerHarness(SmoothActivation(function), inputShape: [4], batch: 1, input: input, seed: 0)
            h.upstream.fill([1, 1, 1, 1])
            let gradient = h.analyticGradients().input
            for (got, want) in zip(h.output.array, expected[function]!) {
                XCTAssertEqual(got, want, accuracy: 1e-6, "\(function.rawValue) output \(h.output.array)")
            }
            XCTAssertTrue(gradient.allSatisfy(\.isFinite), "\(function.rawValue) gradient \(gradient)")
            // The tails' slopes: 0 at -inf (all), 0 or 1 at +inf.
            XCTAssertEqual(gradient[0], 0, accuracy: 1e-6, function.rawValue)
            XCTAssertEqual(gradient[3], [.silu, .hardSilu, .gelu].contains(function) ? 1 : 0, accuracy: 1e-6, function.rawValue)
        }
    }

    func testGradients() throws {
        for (k, function) in SmoothActivation.Function.allCases.enumerated() {
            var rng = SeededGenerator(seed: 510 + UInt64(k))
            let input = rng.floats(2 * 48, in: -4, 4, awayFrom: [-3, 3], margin: 0.05)
            // The hard functions' flat tails and their middle piece are all visited.
            XCTAssertTrue(input.contains { $0 < -3 } && input.contains { $0 > 3 } && input.contains { abs($0) < 3 })
            let h = try LayerHarness(SmoothActivation(function), inputShape: [4, 3, 4], batch: 2, input: input, seed: 520 + UInt64(k))
            XCTAssertTrue(h.parameterNames.isEmpty)
            GradientChecker().checkLayer(h, function.rawValue)
        }
    }

    /// The derivatives in closed form at a few points (upstream 1), so a wrong formula that happens
    /// to agree with finite differences somewhere cannot pass.
    func testDerivativeValues() throws {
        let input: [Float] = [-2, -0.5, 0, 1, 2.5]
        for function in SmoothActivation.Function.allCases {
            let h = try LayerHarness(SmoothActivation(function), inputShape: [5], batch: 1, input: input, seed: 0)
            h.upstream.fill([1, 1, 1, 1, 1])
            let got = h.analyticGradients().input
            let want = input.map { x -> Double in
                let x = Double(x), s = Self.sigmoid(x)
                switch function {
                case .sigmoid: return s * (1 - s)
                case .tanh: return 1 - Foundation.tanh(x) * Foundation.tanh(x)
                case .silu: return s + x * s * (1 - s)
                case .hardSigmoid: return 1.0 / 6
                case .hardSilu: return (x + 3) / 6 + x / 6
                case .gelu: return 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot())) + x * Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot()
                }
            }
            assertClose(got, want, relative: 1e-5, absolute: 1e-7, "\(function.rawValue) derivative")
        }
    }

    /// sigmoid, tanh, silu and gelu take exp, tanh and erf from libmvec, 256 values a call: with every vector width the CPU has
    /// (capped for the test), a value's output and gradient bits are the same wherever it falls in the array (37 values,
    /// and the same 37 after 5 others), and within the formula's tolerance of Double.
    func testVectorFunctionsAtEveryWidthAreAccurateAndPlaceIndependent() throws {
        defer { _ = distill_smooth_cap_lanes(16) }
        var rng = SeededGenerator(seed: 530)
        let values = rng.floats(37, in: -9, 9), shifted = rng.floats(5, in: -9, 9) + values
        var widths: [Int32] = []
        for lanes: Int32 in [4, 8, 16] where distill_smooth_cap_lanes(lanes) == lanes { widths.append(lanes) }
        XCTAssertFalse(widths.isEmpty)
        for lanes in widths {
            _ = distill_smooth_cap_lanes(lanes)
            for function in [SmoothActivation.Function.sigmoid, .tanh, .silu, .gelu] {
                let alone = try forward(function, values), after = try forward(function, shifted)
                XCTAssertEqual(alone.output.array, Array(after.output.array.dropFirst(5)), "\(function.rawValue), \(lanes) lanes")
                assertClose(alone.output.array, values.map { Self.reference(function, Double($0)) }, relative: 2e-6,
                            absolute: function == .gelu ? 1e-6 : 1e-7, "\(function.rawValue), \(lanes) lanes")
                alone.upstream.fill(Array(repeating: 1, count: 37))
                after.upstream.fill(Array(repeating: 1, count: 42))
                XCTAssertEqual(alone.analyticGradients().input, Array(after.analyticGradients().input.dropFirst(5)), "\(function.rawValue) gradient")
            }
        }
        print("smooth activations checked at \(widths) lanes")
    }

    func testKindsAreKerasNames() {
        XCTAssertEqual(SmoothActivation.Function.allCases.map { SmoothActivation($0).kind },
                       ["sigmoid", "tanh", "silu", "hard_sigmoid", "hard_silu", "gelu"])
    }
}
