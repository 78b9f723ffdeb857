/// `f(x) = x` for x > 0, `alpha * x` otherwise (Keras's `LeakyReLU`; alpha 0 is a plain ReLU).
public final class LeakyReLU: Layer {
    public let alpha: Float
    public var kind: String { alpha == 0 ? "re_lu" : "leaky_re_lu" }
    private var size = 0

    public init(alpha: Float = 0.3) { self.alpha = alpha }

    public func build(inputShape: [Int]) throws -> [Int] {
        size = elementCount(inputShape)
        return inputShape
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let count = batch * size, slope = Float16x(repeating: alpha)
        var i = 0
        while i + 16 <= count {
            let x = load16(input + i)
            store16((x * slope).replacing(with: x, where: x .> 0), output + i)
            i += 16
        }
        for j in i..<count {
            let x = input[j]
            output[j] = x > 0 ? x : alpha * x
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        let count = batch * size, slope = Float16x(repeating: alpha)
        var i = 0
        while i + 16 <= count {
            let g = load16(outputGradient + i)
            store16((g * slope).replacing(with: g, where: load16(input + i) .> 0), inputGradient + i)
            i += 16
        }
        for j in i..<count {
            inputGradient[j] = input[j] > 0 ? outputGradient[j] : alpha * outputGradient[j]
        }
    }
}

extension LeakyReLU: KerasLayer {
    public static let kerasClassName = "LeakyReLU"

    /// Keras 3 spells the slope `negative_slope` (default 0.3); Keras 2 spelled it `alpha`.
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        BuiltLayer([LeakyReLU(alpha: try config.float("negative_slope", default: try config.float("alpha", default: 0.3, range: 0...1000),
                                                      range: 0...1000))])
    }
}
