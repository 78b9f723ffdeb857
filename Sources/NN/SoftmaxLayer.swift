/// Keras's `Softmax` layer, allowed as a model's last layer only, over the last axis: as a final `softmax`
/// activation, it is kept out of the logits the losses and distillation read (they apply their own softmax).
public enum SoftmaxLayer: KerasLayer {
    public static let kerasClassName = "Softmax"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        guard try config.lastAxis() ?? -1 == -1 else { throw config.error("option axis must be -1 (the logits of a model's last layer)") }
        return BuiltLayer([], endsInSoftmax: true)
    }
}
