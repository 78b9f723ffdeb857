import CKernels

/// Keras 3's elementwise activations beyond ReLU, as its TensorFlow backend computes them:
///
///     sigmoid(x)      = 1 / (1 + exp(-x))                     dy/dx = y (1 - y)
///     tanh(x)                                                 dy/dx = 1 - y^2
///     silu(x)         = x sigmoid(x)            ("swish")      dy/dx = s (1 + x (1 - s)), s = sigmoid(x)
///     hard_sigmoid(x) = relu6(x + 3) / 6                      dy/dx = 1/6 on (-3, 3), else 0
///     hard_silu(x)    = x hard_sigmoid(x)       ("hard_swish") dy/dx = h + x/6 on (-3, 3)
///     gelu(x)         = x / 2 (1 + erf(x / sqrt 2))            dy/dx = (1 + erf(x / sqrt 2)) / 2 + x exp(-x^2 / 2) / sqrt(2 pi)
///                       (Keras's default, not the tanh approximation; ConvNeXt's)
///
/// sigmoid, tanh, silu and gelu run in CKernels' smooth.c, whose exp, tanh and erf are glibc's vector functions (libmvec):
/// EfficientNetB0's swishes took 28 ms of an 85 ms step with libm's scalar `expf` (AMD EPYC Zen 4, one thread).
public final class SmoothActivation: Layer {
    public enum Function: String, CaseIterable, Sendable {
        case sigmoid, tanh, silu, hardSigmoid = "hard_sigmoid", hardSilu = "hard_silu", gelu
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

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let count = batch * size
        switch function {
        case .sigmoid: distill_sigmoid_forward(input, output, count)
        case .tanh: distill_tanh_forward(input, output, count)
        case .silu: distill_silu_forward(input, output, count)
        case .hardSigmoid: for i in 0..<count { output[i] = Self.hardSigmoid(input[i]) }
        case .hardSilu: for i in 0..<count { output[i] = input[i] * Self.hardSigmoid(input[i]) }
        case .gelu: distill_gelu_forward(input, output, count)
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
        }
    }
}
