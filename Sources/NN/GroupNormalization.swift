/// Keras's `GroupNormalization` over the last (channel) axis: each sample's `C` channels fall into `groups` groups
/// of `C / groups` consecutive channels; each group is normalised by the mean and (biased) variance of all its values
/// (every position, every channel of the group), then scaled and shifted per channel. `groups = -1` is one group per
/// channel (instance normalisation). The same in training and inference (no state, nothing shared between samples).
///
/// Forward as Keras computes it: `a = gamma * rsqrt(var + epsilon)`, `y = x * a + (beta - mean * a)`.
/// Backward, per group of `M` values with `xhat = (x - mean) * r`, `r = rsqrt(var + epsilon)`, `g = dy * gamma`:
/// `dx = r * (g - mean(g) - xhat * mean(g * xhat))`, `dgamma += dy * xhat`, `dbeta += dy`. The statistics are summed
/// in Double; the backward pass computes them again from the input.
public final class GroupNormalization: Layer {
    /// As Keras's option: the number of groups, or -1 for one per channel.
    public let groups: Int
    public let epsilon: Float, center: Bool, scale: Bool
    /// Keras's `axis`, counting the batch as 0: -1, or the input's last.
    public let axis: Int
    public let gammaInitializer: Initializer, betaInitializer: Initializer
    public var kind: String { "group_normalization" }

    private var channels = 0, positions = 0, width = 0   // width: channels per group
    private var affine: ChannelAffine

    public init(groups: Int = 32, epsilon: Float = 1e-3, center: Bool = true, scale: Bool = true, axis: Int = -1,
                gammaInitializer: Initializer = .ones, betaInitializer: Initializer = .zeros) {
        (self.groups, self.epsilon, self.center, self.scale, self.axis) = (groups, epsilon, center, scale, axis)
        affine = ChannelAffine(center: center, scale: scale)
        (self.gammaInitializer, self.betaInitializer) = (gammaInitializer, betaInitializer)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else { throw ModelError("group normalization needs an input with channels, got \(inputShape)") }
        try LayerConfig.checkLastAxis(axis, inputShape: inputShape)
        let count = groups == -1 ? last : groups
        guard count >= 1, count <= last, last % count == 0 else {
            throw ModelError("GroupNormalization has groups \(groups), which does not divide its input's \(last) channels")
        }
        (channels, positions, width) = (last, elementCount(inputShape) / last, last / count)
        return inputShape
    }

    /// Keras's order and names: gamma (when scaled), then beta (when centred).
    public var parameterShapes: [(name: String, shape: [Int])] { affine.parameterShapes(channels: channels) }

    public func initializer(for parameter: String) -> Initializer { parameter == "gamma" ? gammaInitializer : betaInitializer }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        affine.bind(parameters: parameters, gradients: gradients)
    }

    /// The mean and `rsqrt(var + epsilon)` of the group whose first channel is `first`, in one sample `x`.
    @inline(__always)
    private func statistics(_ x: UnsafePointer<Float>, first: Int) -> (mean: Float, inverse: Float) {
        var sum = 0.0
        for p in 0..<positions { for k in first..<first + width { sum += Double(x[p * channels + k]) } }
        let count = Double(positions * width), mean = sum / count
        var squares = 0.0
        for p in 0..<positions {
            for k in first..<first + width { squares += (Double(x[p * channels + k]) - mean) * (Double(x[p * channels + k]) - mean) }
        }
        return (Float(mean), Float(1 / (squares / count + Double(epsilon)).squareRoot()))
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let size = positions * channels
        for n in 0..<batch {
            let x = input + n * size, y = output + n * size
            for first in stride(from: 0, to: channels, by: width) {
                let (mean, inverse) = statistics(x, first: first)
                for k in first..<first + width {
                    let a = inverse * (affine.gamma?[k] ?? 1), b = (affine.beta?[k] ?? 0) - mean * a
                    for p in 0..<positions { y[p * channels + k] = x[p * channels + k] * a + b }
                }
            }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        let size = positions * channels
        for n in 0..<batch {
            let x = input + n * size, dy = outputGradient + n * size
            for first in stride(from: 0, to: channels, by: width) {
                let (mean, inverse) = statistics(x, first: first)
                var (gSum, gxSum) = (0.0, 0.0)
                for k in first..<first + width {
                    for p in 0..<positions {
                        let i = p * channels + k, xhat = (x[i] - mean) * inverse, g = dy[i] * (affine.gamma?[k] ?? 1)
                        affine.gammaGradient?[k] += dy[i] * xhat
                        affine.betaGradient?[k] += dy[i]
                        gSum += Double(g)
                        gxSum += Double(g * xhat)
                    }
                }
                guard let dx = inputGradient.map({ $0 + n * size }) else { continue }
                let count = Double(positions * width), (gMean, gxMean) = (Float(gSum / count), Float(gxSum / count))
                for k in first..<first + width {
                    for p in 0..<positions {
                        let i = p * channels + k, xhat = (x[i] - mean) * inverse
                        dx[i] = inverse * (dy[i] * (affine.gamma?[k] ?? 1) - gMean - xhat * gxMean)
                    }
                }
            }
        }
    }
}

extension GroupNormalization: KerasLayer {
    public static let kerasClassName = "GroupNormalization"

    /// `groups` (default 32; -1: one per channel), the last axis only, Keras's defaults.
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let groups = try config.int("groups", default: 32, range: -1...(1 << 24))
        guard groups != 0 else { throw config.error("option groups is 0; expected a positive integer, or -1 for one group per channel") }
        return BuiltLayer([GroupNormalization(
            groups: groups, epsilon: try config.float("epsilon", default: 0.001, range: 1e-12...1),
            center: try config.bool("center", default: true), scale: try config.bool("scale", default: true),
            axis: try config.lastAxis() ?? -1,
            gammaInitializer: try .named(in: config, "gamma_initializer", default: .ones),
            betaInitializer: try .named(in: config, "beta_initializer", default: .zeros))])
    }
}
