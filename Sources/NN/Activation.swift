/// Keras's `Activation` layer: the names `activationLayers` knows (relu, relu6, sigmoid, tanh, swish, ...), linear adds nothing, softmax (last layer only)
/// is kept out of the logits.
public enum Activation: KerasLayer {
    public static let kerasClassName = "Activation"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        guard config["activation"] != nil else { throw config.error("option activation is missing") }
        return try activationLayers(config)
    }
}
