/// Keras's `Activation` layer: relu adds a ReLU, linear adds nothing, softmax (last layer only)
/// is kept out of the logits.
public enum Activation: KerasLayer {
    public static let kerasClassName = "Activation"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        guard config["activation"] != nil else { throw config.error("option activation is missing") }
        return try activationLayers(config)
    }
}
