import Foundation

/// Keras 3's elementwise activations beyond ReLU, as its TensorFlow backend computes them:
///
///     sigmoid(x)      = 1 / (1 + exp(-x))                     dy/dx = y (1 - y)
///     tanh(x)                                                 dy/dx = 1 - y^2
///     silu(x)         = x sigmoid(x)            ("swish")      dy/dx = s (1 + x (1 - s)), s = sigmoid(x)
///     hard_sigmoid(x) = relu6(x + 3) / 6                      dy/dx = 1/6 on (-3, 3), else 0
///     hard_silu(x)    = x hard_sigmoid(x)       ("hard_swish") dy/dx = h + x/6 on (-3, 3)
///     gelu(x)         = x / 2 (1 + erf(x / sqrt 2))            dy/dx = (1 + erf(x / sqrt 2)) / 2 + x exp(-x^2 / 2) / sqrt(2 pi)
///                       (Keras's default, not the tanh approximation; ConvNeXt's)
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

    @inline(__always) private static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
    @inline(__always) private static func hardSigmoid(_ x: Float) -> Float { Swift.min(Swift.max(x + 3, 0), 6) / 6 }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let count = batch * size
        switch function {
        case .sigmoid: for i in 0..<count { output[i] = Self.sigmoid(input[i]) }
        case .tanh: for i in 0..<count { output[i] = Foundation.tanh(input[i]) }
        case .silu: for i in 0..<count { output[i] = input[i] * Self.sigmoid(input[i]) }
        case .hardSigmoid: for i in 0..<count { output[i] = Self.hardSigmoid(input[i]) }
        case .hardSilu: for i in 0..<count { output[i] = input[i] * Self.hardSigmoid(input[i]) }
        case .gelu: for i in 0..<count { output[i] = 0.5 * input[i] * (1 + Foundation.erf(input[i] / 1.4142135623730951)) }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        for i in 0..<batch * size {
            let (x, y) = (input[i], output[i])
            let slope: Float
            switch function {
            case .sigmoid: slope = y * (1 - y)
            case .tanh: slope = 1 - y * y
            case .silu:
                let s = Self.sigmoid(x)
                slope = s * (1 + x * (1 - s))
            case .hardSigmoid: slope = x > -3 && x < 3 ? 1 / 6 : 0
            case .hardSilu: slope = Self.hardSigmoid(x) + (x > -3 && x < 3 ? x / 6 : 0)
            case .gelu: slope = 0.5 * (1 + Foundation.erf(x / 1.4142135623730951)) + x * Foundation.exp(-0.5 * x * x) * 0.3989422804014327
            }
            inputGradient[i] = outputGradient[i] * slope
        }
    }
}
