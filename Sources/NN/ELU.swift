import Foundation

/// Exponential linear units, as Keras 3's TensorFlow backend computes them:
///
///     elu(x)  = x for x > 0, else alpha (exp(x) - 1)         dy/dx = 1, else alpha exp(x)
///     selu(x) = scale elu(x) with alpha 1.67326324, scale 1.05070098 (Klambauer et al. 2017)
///
/// Keras's `ELU` layer (option `alpha`, default 1) and the activation names `elu`, `selu` and `celu`
/// (whose default alpha 1 makes it elu). `exp(x) - 1` is `expm1`, exact near 0 as TensorFlow's.
public final class ELU: Layer {
    public let alpha: Float, scale: Float
    public var kind: String { scale == 1 ? "elu" : "selu" }
    private var size = 0

    /// TensorFlow's `selu`: these constants.
    public static func selu() -> ELU { ELU(alpha: 1.6732632423543772848170429916717, scale: 1.0507009873554804934193349852946) }

    public init(alpha: Float = 1, scale: Float = 1) { (self.alpha, self.scale) = (alpha, scale) }

    public func build(inputShape: [Int]) throws -> [Int] {
        size = elementCount(inputShape)
        return inputShape
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        for i in 0..<batch * size {
            let x = input[i]
            output[i] = scale * (x > 0 ? x : alpha * Foundation.expm1(x))
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        for i in 0..<batch * size {
            let x = input[i]
            inputGradient[i] = outputGradient[i] * scale * (x > 0 ? 1 : alpha * Foundation.exp(x))
        }
    }
}

extension ELU: KerasLayer {
    public static let kerasClassName = "ELU"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        BuiltLayer([ELU(alpha: try config.float("alpha", default: 1, range: -1e6...1e6))])
    }
}
