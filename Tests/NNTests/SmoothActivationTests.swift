import CKernels
import Foundation
import NN
import XCTest

/// SmoothActivation (sigmoid, tanh, silu, hard_sigmoid, hard_silu, gelu, softplus, softsign, mish, exponential,
/// log_sigmoid, tanh_shrink, squareplus, hard_tanh, soft_shrink, hard_shrink, sparse_plus, sparse_sigmoid) against
/// Foundation's formulas in Double, written from Keras 3's definitions, and its backward pass against those
/// formulas' derivatives and finite differences.
///
/// Forward tolerance 2e-6 relative + 1e-7 absolute: the layer evaluates one or two float `exp`/`tanh`/`log1p` and
/// a few float operations, a few ulps (1 ulp = 6e-8 relative). Two float formulas cancel, as TensorFlow's float32
/// ones do: gelu's `1 + erf(x / sqrt 2)` below x = -2 (1e-6 absolute there) and squareplus's `x + sqrt(x^2 + 4)`
/// below x = -2 (a few ulps of |x| <= 12: 2e-6). Gradient checks: for the smooth functions on [-4, 4] the central
/// difference's truncation error is |f'''| h^2 / 6 <= 2 * 1e-4 / 6 per unit of upstream gradient (exponential's
/// 55 * 1e-4 / 6 against its slope of 55), far under the checker's 1e-3; the piecewise functions are polynomials
/// of degree <= 2 on each piece (central differences exact) and their inputs stay >= 0.05 from the kinks while the
/// step is 1e-2.
final class SmoothActivationTests: XCTestCase {
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
    static func relu6(_ x: Double) -> Double { min(max(x, 0), 6) }
    static func softplus(_ x: Double) -> Double { Foundation.log1p(Foundation.exp(x)) }

    /// Keras 3's definitions, independently of the layer.
    static func reference(_ function: SmoothActivation.Function, _ x: Double) -> Double {
        switch function {
        case .sigmoid: return sigmoid(x)
        case .tanh: return Foundation.tanh(x)
        case .silu: return x * sigmoid(x)
        case .hardSigmoid: return relu6(x + 3) / 6
        case .hardSilu: return x * relu6(x + 3) / 6
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .softplus: return softplus(x)
        case .softsign: return x / (1 + abs(x))
        case .mish: return x * Foundation.tanh(softplus(x))
        case .exponential: return Foundation.exp(x)
        case .logSigmoid: return Foundation.log(sigmoid(x))
        case .tanhShrink: return x - Foundation.tanh(x)
        case .squareplus: return (x + (x * x + 4).squareRoot()) / 2
        case .hardTanh: return min(max(x, -1), 1)
        case .softShrink: return x > 0.5 ? x - 0.5 : x < -0.5 ? x + 0.5 : 0
        case .hardShrink: return abs(x) > 0.5 ? x : 0
        case .sparsePlus: return x <= -1 ? 0 : x < 1 ? (x + 1) * (x + 1) / 4 : x
        case .sparseSigmoid: return x <= -1 ? 0 : x >= 1 ? 1 : (x + 1) / 2
        }
    }

    /// The derivatives in closed form (away from the kinks).
    static func derivative(_ function: SmoothActivation.Function, _ x: Double) -> Double {
        let s = sigmoid(x)
        switch function {
        case .sigmoid: return s * (1 - s)
        case .tanh: return 1 - Foundation.tanh(x) * Foundation.tanh(x)
        case .silu: return s + x * s * (1 - s)
        case .hardSigmoid: return abs(x) < 3 ? 1.0 / 6 : 0
        case .hardSilu: return abs(x) < 3 ? (x + 3) / 6 + x / 6 : x > 0 ? 1 : 0
        case .gelu: return 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot())) + x * Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot()
        case .softplus: return s
        case .softsign: return 1 / ((1 + abs(x)) * (1 + abs(x)))
        case .mish:
            let t = Foundation.tanh(softplus(x))
            return t + x * (1 - t * t) * s
        case .exponential: return Foundation.exp(x)
        case .logSigmoid: return 1 - s
        case .tanhShrink: return Foundation.tanh(x) * Foundation.tanh(x)
        case .squareplus: return (1 + x / (x * x + 4).squareRoot()) / 2
        case .hardTanh: return abs(x) <= 1 ? 1 : 0
        case .softShrink, .hardShrink: return abs(x) > 0.5 ? 1 : 0
        case .sparsePlus: return x <= -1 ? 0 : x < 1 ? (x + 1) / 2 : 1
        case .sparseSigmoid: return abs(x) < 1 ? 0.5 : 0
        }
    }

    /// The forward tolerance's absolute part (see above).
    static func absoluteTolerance(_ function: SmoothActivation.Function) -> Double {
        switch function {
        case .gelu: 1e-6
        case .squareplus: 2e-6
        default: 1e-7
        }
    }

    private func forward(_ function: SmoothActivation.Function, _ input: [Float]) throws -> LayerHarness {
        let h = try LayerHarness(SmoothActivation(function), inputShape: [input.count], batch: 1, input: input, seed: 0)
        _ = h.loss()
        return h
    }

    func testForwardMatchesTheFormulas() throws {
        var rng = SeededGenerator(seed: 500)
        let input = rng.floats(400, in: -9, 9) + [-3, 3, 0, -0.5, 0.5, -12, 12, -2.999, 3.001, -1, 1]
        for function in SmoothActivation.Function.allCases {
            let h = try forward(function, input)
            XCTAssertEqual(h.outputShape, [input.count])
            assertClose(h.output.array, input.map { Self.reference(function, Double($0)) }, relative: 2e-6,
                        absolute: Self.absoluteTolerance(function), "\(function.rawValue)")
        }
    }

    func testPiecewiseFunctionsExactly() throws {
        let input: [Float] = [-4, -3, -1.5, 0, 1.5, 3, 4]
        XCTAssertEqual(try forward(.hardSigmoid, input).output.array, [0, 0, 0.25, 0.5, 0.75, 1, 1])
        XCTAssertEqual(try forward(.hardSilu, input).output.array, [-0, -0, -0.375, 0, 1.125, 3, 4])
        XCTAssertEqual(try forward(.hardTanh, input).output.array, [-1, -1, -1, 0, 1, 1, 1])
        XCTAssertEqual(try forward(.softShrink, input).output.array, [-3.5, -2.5, -1, 0, 1, 2.5, 3.5])
        XCTAssertEqual(try forward(.hardShrink, input + [0.5, -0.5, 0.75]).output.array, [-4, -3, -1.5, 0, 1.5, 3, 4, 0, 0, 0.75])
        XCTAssertEqual(try forward(.sparsePlus, input + [-1, 1]).output.array, [0, 0, 0, 0.25, 1.5, 3, 4, 0, 1])
        XCTAssertEqual(try forward(.sparseSigmoid, input + [-1, 1, 0.5]).output.array, [0, 0, 0, 0.5, 1, 1, 1, 0, 1, 0.75])
    }

    /// Far from 0, no overflow reaches the output or the gradient (exp(100) is inf in float), and both keep to the
    /// Double formulas; squareplus's `x + sqrt(x^2 + 4)` cancels at -100 (a few ulps of 100: 1e-5). exponential
    /// overflows at 100 in Keras too (TensorFlow's float32 exp), so it is checked to 30 only.
    func testSaturationIsFinite() throws {
        let input: [Float] = [-100, -30, 30, 100]
        for function in SmoothActivation.Function.allCases {
            let x = Array(input.prefix(function == .exponential ? 3 : 4))
            let h = try LayerHarness(SmoothActivation(function), inputShape: [x.count], batch: 1, input: x, seed: 0)
            h.upstream.fill(Array(repeating: 1, count: x.count))
            let gradient = h.analyticGradients().input
            XCTAssertTrue(h.output.array.allSatisfy(\.isFinite) && gradient.allSatisfy(\.isFinite),
                          "\(function.rawValue): \(h.output.array), \(gradient)")
            assertClose(h.output.array, x.map { Self.reference(function, Double($0)) }, relative: 1e-6,
                        absolute: function == .squareplus ? 1e-5 : 1e-6, "\(function.rawValue) output")
            assertClose(gradient, x.map { Self.derivative(function, Double($0)) }, relative: 1e-6, absolute: 1e-6,
                        "\(function.rawValue) gradient")
        }
    }

    func testGradients() throws {
        for (k, function) in SmoothActivation.Function.allCases.enumerated() {
            var rng = SeededGenerator(seed: 510 + UInt64(k))
            let input = rng.floats(2 * 48, in: -4, 4, awayFrom: function.kinks, margin: 0.05)
            // Every piece of a piecewise function is visited.
            for piece in zip([-4] + function.kinks, function.kinks + [4]) {
                XCTAssertTrue(input.contains { $0 > piece.0 && $0 < piece.1 }, "\(function.rawValue): no input in \(piece)")
            }
            let h = try LayerHarness(SmoothActivation(function), inputShape: [4, 3, 4], batch: 2, input: input, seed: 520 + UInt64(k))
            XCTAssertTrue(h.parameterNames.isEmpty)
            GradientChecker().checkLayer(h, function.rawValue)
        }
    }

    /// The derivatives in closed form at a few points on every piece (upstream 1), so a wrong formula that
    /// happens to agree with finite differences somewhere cannot pass.
    func testDerivativeValues() throws {
        let input: [Float] = [-3.5, -2, -0.75, -0.25, 0, 0.8, 2.5, 3.5]
        for function in SmoothActivation.Function.allCases {
            let h = try LayerHarness(SmoothActivation(function), inputShape: [input.count], batch: 1, input: input, seed: 0)
            h.upstream.fill(Array(repeating: 1, count: input.count))
            assertClose(h.analyticGradients().input, input.map { Self.derivative(function, Double($0)) }, relative: 1e-5, absolute: 1e-7,
                        "\(function.rawValue) derivative")
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
                            absolute: Self.absoluteTolerance(function), "\(function.rawValue), \(lanes) lanes")
                alone.upstream.fill(Array(repeating: 1, count: 37))
                after.upstream.fill(Array(repeating: 1, count: 42))
                XCTAssertEqual(alone.analyticGradients().input, Array(after.analyticGradients().input.dropFirst(5)), "\(function.rawValue) gradient")
            }
        }
        print("smooth activations checked at \(widths) lanes")
    }

    func testKindsAreKerasNames() {
        XCTAssertEqual(SmoothActivation.Function.allCases.map { SmoothActivation($0).kind },
                       ["sigmoid", "tanh", "silu", "hard_sigmoid", "hard_silu", "gelu", "softplus", "softsign", "mish", "exponential",
                        "log_sigmoid", "tanh_shrink", "squareplus", "hard_tanh", "soft_shrink", "hard_shrink", "sparse_plus", "sparse_sigmoid"])
    }
}
