/// Keras's `SpatialDropout2D`: dropout of whole feature maps (Tompson et al. 2014), which is `Dropout` with one
/// keep per sample and channel (Keras's noise shape `[batch, 1, 1, channels]`), kept maps scaled by 1 / (1 - rate).
/// Its masks are keyed as `Dropout`'s, so 1 rank and N ranks drop the same maps.
public enum SpatialDropout2D: KerasLayer {
    public static let kerasClassName = "SpatialDropout2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        config.ignore("seed")   // masks come from the run's seed, as Dropout's
        guard let given = config["rate"], given != .null else { throw config.error("option rate is missing; expected a number in [0, 1)") }
        let rate = try config.float("rate", default: 0, range: 0...1)
        guard rate < 1 else { throw config.error("option rate is \(rate); expected a number in [0, 1)") }
        return BuiltLayer([SpatialDropout(rate: rate)])
    }
}

/// The `Dropout` a `SpatialDropout2D` is, which refuses an input that is not an image (`[H, W, C]` per sample) by the
/// Keras class's name rather than by the noise shape the user never wrote.
public final class SpatialDropout: Layer, ModeDependentLayer {
    private let dropout: Dropout
    public var kind: String { "spatial_dropout2d" }

    public init(rate: Float) { dropout = Dropout(rate: rate, noiseShape: [1, 1, nil]) }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw ModelError("SpatialDropout2D takes images ([height, width, channels] per sample), got \(inputShape)")
        }
        return try dropout.build(inputShape: inputShape)
    }

    public func reserve(maxBatch: Int) { dropout.reserve(maxBatch: maxBatch) }
    public func begin(_ pass: TrainingPass?, layer index: Int) { dropout.begin(pass, layer: index) }
    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        dropout.forward(input: input, output: output, batch: batch)
    }
    public func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int) {
        dropout.backward(outputGradient: outputGradient, inputGradient: inputGradient, input: input, output: output, batch: batch)
    }
}
