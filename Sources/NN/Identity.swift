/// Keras's `Identity` layer: its output is its input, so it adds no layer (as `Activation("linear")`).
public enum Identity: KerasLayer {
    public static let kerasClassName = "Identity"
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer { BuiltLayer([]) }
}
