/// Keras's `ReLU` layer, `max(x, 0)`: a `LeakyReLU` with its `negative_slope` (default 0). A `max_value` cap or
/// a nonzero `threshold` has no implementation here and is refused.
public enum ReLU: KerasLayer {
    public static let kerasClassName = "ReLU"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        try config.requireDefault("max_value")
        try config.requireDefault("threshold", .number(0))
        return BuiltLayer([LeakyReLU(alpha: try config.float("negative_slope", default: 0, range: 0...1000))])
    }
}
