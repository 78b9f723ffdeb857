/// Keras's `ReLU` layer: a `LeakyReLU` with its `negative_slope` (default 0) when there is no cap and
/// no threshold (so plain ReLUs train exactly as they always have), else a `ClippedReLU` with
/// `max_value` and `threshold` as Keras 3 defines them (each at least 0, as Keras requires).
public enum ReLU: KerasLayer {
    public static let kerasClassName = "ReLU"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let slope = try config.float("negative_slope", default: 0, range: 0...1000)
        let threshold = try config.float("threshold", default: 0, range: 0...1e6)
        let cap: Float? = config["max_value"] == nil || config["max_value"] == .null
            ? nil : try config.float("max_value", default: 0, range: 0...1e6)
        guard cap != nil || threshold != 0 else { return BuiltLayer([LeakyReLU(alpha: slope)]) }
        return BuiltLayer([ClippedReLU(negativeSlope: slope, maxValue: cap, threshold: threshold)])
    }
}
