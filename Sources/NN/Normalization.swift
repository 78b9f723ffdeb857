import Foundation

/// Keras's `Normalization` on the last (channel) axis: `y = (x - mean) / max(sqrt(variance), 1e-7)`, or with
/// `invert` `y = mean + x * max(sqrt(variance), 1e-7)`, in Float32 as Keras, so the bits are Keras's.
///
/// The statistics are the config's `mean` and `variance` (one number, or one per channel: EfficientNetV2's and
/// ConvNeXt's ImageNet statistics), or, when the config has none, Keras's `adapt` weights `mean`, `variance`
/// and `count`: state no gradient reaches (zeros, ones and zero until a Keras model's weights are imported), as
/// EfficientNet writes it. Like `Rescaling`, one that reads the model's input sees the raw pixels 0-255 (the
/// loader's `b / 255` times 255, which is `b` exactly in Float32).
public final class Normalization: Layer {
    /// Per channel (or one for all) from the config; nil when the statistics are the layer's weights.
    public let fixedMean: [Float]?, fixedVariance: [Float]?
    public let invert: Bool, inputScale: Float
    /// Keras's `axis`, counting the batch as 0: -1, or the input's last.
    public let axis: Int
    public var kind: String { "normalization" }

    private var channels = 0, size = 0
    private var mean: UnsafeMutablePointer<Float>?, variance: UnsafeMutablePointer<Float>?
    private var statistics = FloatBuffer(count: 0)   // [2C]: the mean, then max(sqrt(variance), 1e-7), per channel

    public init(mean: [Float]? = nil, variance: [Float]? = nil, invert: Bool = false, inputScale: Float = 1, axis: Int = -1) {
        (fixedMean, fixedVariance, self.invert, self.inputScale, self.axis) = (mean, variance, invert, inputScale, axis)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else { throw ModelError("normalization needs an input with channels, got \(inputShape)") }
        guard axis == -1 || axis == inputShape.count else {
            throw ModelError("option axis is \(axis), but the channel axis of an input of shape \(inputShape) is \(inputShape.count) "
                + "(counting the batch as 0) or -1; only the channel axis is supported")
        }
        for (name, values) in [("mean", fixedMean), ("variance", fixedVariance)] {
            if let values, values.count != 1, values.count != last {
                throw ModelError("normalization \(name) has \(values.count) values for an input of \(last) channels (shape \(inputShape)); "
                    + "expected 1 or \(last)")
            }
        }
        (channels, size) = (last, elementCount(inputShape))
        statistics = FloatBuffer(count: 2 * channels)
        if let fixedMean, let fixedVariance { setStatistics(fixedMean, fixedVariance) }
        return inputShape
    }

    /// Keras's order of its adapt weights (when the config has no statistics).
    public var parameterShapes: [(name: String, shape: [Int])] {
        fixedMean == nil ? [("mean", [channels]), ("variance", [channels]), ("count", [])] : []
    }
    public var nonTrainableParameters: Set<String> { ["mean", "variance", "count"] }
    public func initializer(for parameter: String) -> Initializer { parameter == "variance" ? .ones : .zeros }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        guard fixedMean == nil else { return }
        (mean, variance) = (parameters[0], parameters[1])
    }

    /// The mean and `max(sqrt(variance), 1e-7)` per channel, a single value broadcast.
    private func setStatistics(_ means: [Float], _ variances: [Float]) {
        for c in 0..<channels {
            statistics.pointer[c] = means[means.count == 1 ? 0 : c]
            statistics.pointer[channels + c] = max(variances[variances.count == 1 ? 0 : c].squareRoot(), Float(1e-7))
        }
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        if let mean, let variance {   // the weights: read at every pass, as an import may change them
            for c in 0..<channels {
                statistics.pointer[c] = mean[c]
                statistics.pointer[channels + c] = max(variance[c].squareRoot(), Float(1e-7))
            }
        }
        let (m, d, s, c) = (statistics.pointer, statistics.pointer + channels, inputScale, channels)
        for row in 0..<batch * size / c {
            let x = input + row * c, y = output + row * c
            if invert {
                for k in 0..<c { y[k] = m[k] + x[k] * s * d[k] }
            } else {
                for k in 0..<c { y[k] = (x[k] * s - m[k]) / d[k] }
            }
        }
    }

    /// d(output)/d(input) per channel: the input scale times the deviation, or over it.
    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        let (d, s, c) = (statistics.pointer + channels, inputScale, channels)
        for row in 0..<batch * size / c {
            let dy = outputGradient + row * c, dx = inputGradient + row * c
            if invert {
                for k in 0..<c { dx[k] = dy[k] * d[k] * s }
            } else {
                for k in 0..<c { dx[k] = dy[k] / d[k] * s }
            }
        }
    }
}

extension Normalization: KerasLayer {
    public static let kerasClassName = "Normalization"

    /// The last axis only (-1, or its number counting the batch as 0, alone or in a list); the statistics both
    /// given or both null.
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        if config["axis"] == .null {   // Keras: one mean and variance for every value
            throw config.error("option axis is null; only the last (channel) axis is supported: -1, or 3 for images")
        }
        let number = try config.lastAxis() ?? -1
        let mean = try statistic(config, "mean"), variance = try statistic(config, "variance")
        guard (mean == nil) == (variance == nil) else {
            throw config.error("option \(mean == nil ? "mean" : "variance") is null while the other is given; expected both or neither")
        }
        if let variance, variance.contains(where: { $0 < 0 }) { throw config.error("option variance is negative; expected values >= 0") }
        let layer = Normalization(mean: mean, variance: variance, invert: try config.bool("invert", default: false),
                                  inputScale: context.readsPixels ? 255 : 1, axis: number)
        return BuiltLayer([layer])
    }

    /// One number or a list of them (one per channel), or nil.
    private static func statistic(_ config: LayerConfig, _ key: String) throws -> [Float]? {
        guard let value = config[key], value != .null else { return nil }
        let items = value.array ?? [value]
        let numbers = items.compactMap { item -> Float? in
            guard case .number(let number) = item, abs(number) <= 1e9 else { return nil }
            return Float(number)
        }
        guard !items.isEmpty, numbers.count == items.count else {
            throw config.error("option \(key) is \(value.text); expected a number or a list of numbers, one per channel")
        }
        return numbers
    }
}
