import CKernels
import Foundation

/// Keras 3's elementwise activations beyond ReLU and ELU, as its TensorFlow backend computes them
/// (Keras's default options; s = sigmoid(x)):
///
///     sigmoid(x)      = 1 / (1 + exp(-x))                     dy/dx = y (1 - y)
///     tanh(x)                                                 dy/dx = 1 - y^2
///     silu(x)         = x sigmoid(x)            ("swish")      dy/dx = s (1 + x (1 - s))
///     hard_sigmoid(x) = relu6(x + 3) / 6                      dy/dx = 1/6 on (-3, 3), else 0
///     hard_silu(x)    = x hard_sigmoid(x)       ("hard_swish") dy/dx = h + x/6 on (-3, 3)
///     gelu(x)         = x / 2 (1 + erf(x / sqrt 2))            dy/dx = (1 + erf(x / sqrt 2)) / 2 + x exp(-x^2 / 2) / sqrt(2 pi)
///                       (Keras's default, not the tanh approximation; ConvNeXt's)
///     softplus(x)     = log(1 + exp(x))                        dy/dx = s
///     softsign(x)     = x / (1 + |x|)                          dy/dx = 1 / (1 + |x|)^2
///     mish(x)         = x tanh(softplus(x))                    dy/dx = t + x (1 - t^2) s, t = tanh(softplus(x))
///     exponential(x)  = exp(x)                                 dy/dx = y
///     log_sigmoid(x)  = -softplus(-x)                          dy/dx = 1 - s
///     tanh_shrink(x)  = x - tanh(x)                            dy/dx = tanh(x)^2
///     squareplus(x)   = (x + sqrt(x^2 + 4)) / 2                dy/dx = (1 + x / sqrt(x^2 + 4)) / 2
///     hard_tanh(x)    = clip(x, -1, 1)                         dy/dx = 1 on [-1, 1], else 0
///     soft_shrink(x)  = x - 0.5 above 0.5, x + 0.5 below -0.5, else 0      dy/dx = 1 where |x| > 0.5
///     hard_shrink(x)  = x where |x| > 0.5, else 0                          dy/dx = 1 where |x| > 0.5
///     sparse_plus(x)  = 0 to -1, (x + 1)^2 / 4 on (-1, 1), x from 1        dy/dx = 0, (x + 1) / 2, 1
///     sparse_sigmoid(x) = 0 to -1, (x + 1) / 2 on (-1, 1), 1 from 1       dy/dx = 1/2 on (-1, 1)
///
/// softplus is computed as max(x, 0) + log1p(exp(-|x|)), exact where exp(x) would overflow.
/// sigmoid, tanh, silu and gelu run in CKernels' smooth.c, whose exp, tanh and erf are glibc's vector functions (libmvec):
/// EfficientNetB0's swishes took 28 ms of an 85 ms step with libm's scalar `expf` (AMD EPYC Zen 4, one thread).
public final class SmoothActivation: Layer {
    public enum Function: String, CaseIterable, Sendable {
        case sigmoid, tanh, silu, hardSigmoid = "hard_sigmoid", hardSilu = "hard_silu", gelu
        case softplus, softsign, mish, exponential, logSigmoid = "log_sigmoid", tanhShrink = "tanh_shrink", squareplus
        case hardTanh = "hard_tanh", softShrink = "soft_shrink", hardShrink = "hard_shrink", sparsePlus = "sparse_plus"
        case sparseSigmoid = "sparse_sigmoid"

        /// Where the function's slope jumps (the gradient tests stay away from these).
        public var kinks: [Float] {
            switch self {
            case .hardSigmoid, .hardSilu: [-3, 3]
            case .hardTanh, .sparsePlus, .sparseSigmoid: [-1, 1]
            case .softShrink, .hardShrink: [-0.5, 0.5]
            default: []
            }
        }
    }

    public let function: Function
    public var kind: String { function.rawValue }
    private var size = 0

    public init(_ function: Function) { self.function = function }

    public func build(inputShape: [Int]) throws -> [Int] {
        size = elementCount(inputShape)
        return inputShape
    }

    @inline(__always) private static func hardSigmoid(_ x: Float) -> Float { Swift.min(Swift.max(x + 3, 0), 6) / 6 }
    @inline(__always) private static func softplus(_ x: Float) -> Float { Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x))) }
    @inline(__always) private static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let count = batch * size
        /// y = f(x), one value at a time.
        func each(_ f: (Float) -> Float) { for i in 0..<count { output[i] = f(input[i]) } }
        switch function {
        case .sigmoid: distill_sigmoid_forward(input, output, count)
        case .tanh: distill_tanh_forward(input, output, count)
        case .silu: distill_silu_forward(input, output, count)
        case .hardSigmoid: each(Self.hardSigmoid)
        case .hardSilu: each { $0 * Self.hardSigmoid($0) }
        case .gelu: distill_gelu_forward(input, output, count)
        case .softplus: each(Self.softplus)
        case .softsign: each { $0 / (1 + abs($0)) }
        case .mish: each { $0 * Foundation.tanh(Self.softplus($0)) }
        case .exponential: each { Foundation.exp($0) }
        case .logSigmoid: each { -Self.softplus(-$0) }
        case .tanhShrink: each { $0 - Foundation.tanh($0) }
        case .squareplus: each { ($0 + ($0 * $0 + 4).squareRoot()) / 2 }
        case .hardTanh: each { Swift.min(Swift.max($0, -1), 1) }
        case .softShrink: each { $0 > 0.5 ? $0 - 0.5 : $0 < -0.5 ? $0 + 0.5 : 0 }
        case .hardShrink: each { abs($0) > 0.5 ? $0 : 0 }
        case .sparsePlus: each { $0 <= -1 ? 0 : $0 < 1 ? (($0 + 1) * ($0 + 1)) / 4 : $0 }
        case .sparseSigmoid: each { $0 <= -1 ? 0 : $0 >= 1 ? 1 : ($0 + 1) / 2 }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        let count = batch * size
        /// dx = dy * slope(x, y).
        func times(_ slope: (_ x: Float, _ y: Float) -> Float) {
            for i in 0..<count { inputGradient[i] = outputGradient[i] * slope(input[i], output[i]) }
        }
        switch function {
        case .sigmoid: times { _, y in y * (1 - y) }
        case .tanh: times { _, y in 1 - y * y }
        case .silu: distill_silu_backward(input, outputGradient, inputGradient, count)
        case .hardSigmoid: times { x, _ in x > -3 && x < 3 ? 1 / 6 : 0 }
        case .hardSilu: times { x, _ in Self.hardSigmoid(x) + (x > -3 && x < 3 ? x / 6 : 0) }
        case .gelu: distill_gelu_backward(input, outputGradient, inputGradient, count)
        case .softplus: times { x, _ in Self.sigmoid(x) }
        case .softsign: times { x, _ in 1 / ((1 + abs(x)) * (1 + abs(x))) }
        case .mish: times { x, _ in
            let t = Foundation.tanh(Self.softplus(x))
            return t + x * (1 - t * t) * Self.sigmoid(x)
        }
        case .exponential: times { _, y in y }
        case .logSigmoid: times { x, _ in Self.sigmoid(-x) }
        case .tanhShrink: times { x, _ in Foundation.tanh(x) * Foundation.tanh(x) }
        case .squareplus: times { x, _ in (1 + x / (x * x + 4).squareRoot()) / 2 }
        case .hardTanh: times { x, _ in x >= -1 && x <= 1 ? 1 : 0 }
        case .softShrink, .hardShrink: times { x, _ in abs(x) > 0.5 ? 1 : 0 }
        case .sparsePlus: times { x, _ in x <= -1 ? 0 : x < 1 ? (x + 1) / 2 : 1 }
        case .sparseSigmoid: times { x, _ in x > -1 && x < 1 ? 0.5 : 0 }
        }
    }
}
