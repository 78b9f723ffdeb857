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
        for i in 0..<batch * size {
            let x = input[i]
            output[i] = x > 0 ? x : alpha * x
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        for i in 0..<batch * size {
            inputGradient[i] = input[i] > 0 ? outputGradient[i] : alpha * outputGradient[i]
        }
    }
}

/// Keras's `ReLU`: `max(x, 0)`.
public func ReLU() -> LeakyReLU { LeakyReLU(alpha: 0) }
