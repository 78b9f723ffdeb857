/// Keras's `RMSNormalization` over the last axis: each position's `C` values divided by their root mean square,
/// then scaled per channel, `y = x * rsqrt(mean(x^2) + epsilon) * scale` (epsilon 1e-6; no centring, no offset).
/// The same in training and inference; Keras names its one weight `scale` (started at ones).
///
/// Backward, per position with `r = rsqrt(mean(x^2) + epsilon)` and `g = dy * scale`:
/// `dx = r * g - x * r^3 * mean(g * x)`, `dscale += dy * x * r`. The sums are taken in Double; the backward pass
/// computes `r` again from the input.
public final class RMSNormalization: Layer {
    public let epsilon: Float
    /// Keras's `axis`, counting the batch as 0: -1, or the input's last.
    public let axis: Int
    public var kind: String { "rms_normalization" }
    private var channels = 0, size = 0
    private var scale: UnsafeMutablePointer<Float>!, scaleGradient: UnsafeMutablePointer<Float>!

    public init(epsilon: Float = 1e-6, axis: Int = -1) { (self.epsilon, self.axis) = (epsilon, axis) }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else { throw ModelError("RMS normalization needs an input with channels, got \(inputShape)") }
        try LayerConfig.checkLastAxis(axis, inputShape: inputShape)
        (channels, size) = (last, elementCount(inputShape))
        return inputShape
    }

    public var parameterShapes: [(name: String, shape: [Int])] { [("scale", [channels])] }
    public func initializer(for parameter: String) -> Initializer { .ones }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        (scale, scaleGradient) = (parameters[0], gradients[0])
    }

    /// `rsqrt(mean(x[0..<C]^2) + epsilon)`.
    @inline(__always)
    private func inverseRMS(_ x: UnsafePointer<Float>) -> Float {
        var squares = 0.0
        for k in 0..<channels { squares += Double(x[k]) * Double(x[k]) }
        return Float(1 / (squares / Double(channels) + Double(epsilon)).squareRoot())
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let c = channels
        for row in 0..<batch * size / c {
            let x = input + row * c, y = output + row * c
            let r = inverseRMS(x)
            for k in 0..<c { y[k] = x[k] * r * scale[k] }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        let c = channels
        for row in 0..<batch * size / c {
            let x = input + row * c, dy = outputGradient + row * c
            let r = inverseRMS(x)
            var gx = 0.0
            for k in 0..<c {
                scaleGradient[k] += dy[k] * x[k] * r
                gx += Double(dy[k] * scale[k]) * Double(x[k])
            }
            guard let dx = inputGradient.map({ $0 + row * c }) else { continue }
            let correction = r * r * r * Float(gx / Double(c))
            for k in 0..<c { dx[k] = r * dy[k] * scale[k] - x[k] * correction }
        }
    }
}

extension RMSNormalization: KerasLayer {
    public static let kerasClassName = "RMSNormalization"

    /// The last axis only (-1, or its number counting the batch as 0, alone or in a list); Keras's epsilon 1e-6.
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        BuiltLayer([RMSNormalization(epsilon: try config.float("epsilon", default: 1e-6, range: 1e-12...1), axis: try config.lastAxis() ?? -1)])
    }
}
