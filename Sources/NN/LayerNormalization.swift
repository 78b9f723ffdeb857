/// Keras's `LayerNormalization` over the last axis: each position's `C` values are normalised by their own
/// mean and (biased) variance, `y = gamma * (x - mean) / sqrt(var + epsilon) + beta`, the same in training and
/// inference (no state, nothing shared between samples or ranks). ConvNeXt's blocks; transformers' too.
///
/// Backward, per position with `xhat = (x - mean) * r`, `r = 1 / sqrt(var + epsilon)`, `g = dy * gamma`:
/// `dx = r * (g - mean(g) - xhat * mean(g * xhat))`, `dgamma += dy * xhat`, `dbeta += dy`.
/// The statistics are summed in Double; the backward pass computes them again from the input.
public final class LayerNormalization: Layer {
    public let epsilon: Float
    public let center: Bool, scale: Bool
    /// Keras's `axis`, counting the batch as 0: -1, or the input's last.
    public let axis: Int
    public let gammaInitializer: Initializer, betaInitializer: Initializer
    public var kind: String { "layer_normalization" }

    private var channels = 0, size = 0
    private var affine: ChannelAffine

    public init(epsilon: Float = 0.001, center: Bool = true, scale: Bool = true, axis: Int = -1,
                gammaInitializer: Initializer = .ones, betaInitializer: Initializer = .zeros) {
        (self.epsilon, self.center, self.scale, self.axis) = (epsilon, center, scale, axis)
        affine = ChannelAffine(center: center, scale: scale)
        (self.gammaInitializer, self.betaInitializer) = (gammaInitializer, betaInitializer)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else { throw ModelError("layer normalization needs an input with channels, got \(inputShape)") }
        try LayerConfig.checkLastAxis(axis, inputShape: inputShape)
        guard epsilon > 0 else { throw ModelError("layer normalization needs epsilon > 0, got \(epsilon)") }
        (channels, size) = (last, elementCount(inputShape))
        return inputShape
    }

    /// Keras's order and names: gamma (when scaled), then beta (when centred).
    public var parameterShapes: [(name: String, shape: [Int])] { affine.parameterShapes(channels: channels) }

    public func initializer(for parameter: String) -> Initializer { parameter == "gamma" ? gammaInitializer : betaInitializer }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        affine.bind(parameters: parameters, gradients: gradients)
    }

    /// The mean of `x[0..<C]` and `1 / sqrt(var + epsilon)`.
    @inline(__always)
    private func statistics(_ x: UnsafePointer<Float>) -> (mean: Float, inverse: Float) {
        var sum = 0.0
        for k in 0..<channels { sum += Double(x[k]) }
        let mean = sum / Double(channels)
        var squares = 0.0
        for k in 0..<channels { squares += (Double(x[k]) - mean) * (Double(x[k]) - mean) }
        return (Float(mean), Float(1 / (squares / Double(channels) + Double(epsilon)).squareRoot()))
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let c = channels
        for row in 0..<batch * size / c {
            let x = input + row * c, y = output + row * c
            let (mean, inverse) = statistics(x)
            for k in 0..<c { y[k] = (x[k] - mean) * inverse * (affine.gamma?[k] ?? 1) + (affine.beta?[k] ?? 0) }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        let c = channels
        for row in 0..<batch * size / c {
            let x = input + row * c, dy = outputGradient + row * c
            let (mean, inverse) = statistics(x)
            var (gSum, gxSum) = (0.0, 0.0)
            for k in 0..<c {
                let xhat = (x[k] - mean) * inverse, g = dy[k] * (affine.gamma?[k] ?? 1)
                affine.gammaGradient?[k] += dy[k] * xhat
                affine.betaGradient?[k] += dy[k]
                gSum += Double(g)
                gxSum += Double(g * xhat)
            }
            guard let dx = inputGradient.map({ $0 + row * c }) else { continue }
            let (gMean, gxMean) = (Float(gSum / Double(c)), Float(gxSum / Double(c)))
            for k in 0..<c {
                let xhat = (x[k] - mean) * inverse
                dx[k] = inverse * (dy[k] * (affine.gamma?[k] ?? 1) - gMean - xhat * gxMean)
            }
        }
    }
}

extension LayerNormalization: KerasLayer {
    public static let kerasClassName = "LayerNormalization"

    /// The last axis only (-1, or its number counting the batch as 0, alone or in a list); Keras's defaults.
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let axis = try config.lastAxis() ?? -1
        try config.requireDefault("rms_scaling", .bool(false))
        return BuiltLayer([LayerNormalization(
            epsilon: try config.float("epsilon", default: 0.001, range: 1e-12...1),
            center: try config.bool("center", default: true), scale: try config.bool("scale", default: true),
            axis: axis,
            gammaInitializer: try .named(in: config, "gamma_initializer", default: .ones),
            betaInitializer: try .named(in: config, "beta_initializer", default: .zeros))])
    }
}
