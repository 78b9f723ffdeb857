/// An update rule on the model's flat buffers, as a Keras optimizer: it reads the averaged
/// gradients and changes the trainable values (`ParameterStore` layout). Its per-parameter slots
/// and its step count are its whole state, so a training state can save and restore it.
public protocol Optimizer: AnyObject {
    /// Keras's class name, for messages and summaries: "Adam", "SGD", "AdamW".
    var name: String { get }
    /// The prefix of its sections in a training state: "adam" writes `adam.m`, `adam.v`, `adam_iterations`.
    var stateName: String { get }
    /// The names of its slots, in the order `slots` gives them ("m", "v"; none for plain SGD).
    var slotNames: [String] { get }
    /// Keras's `clipnorm`, `global_clipnorm` or `clipvalue`, applied to the gradients first.
    var clipping: GradientClipping { get }
    /// Updates taken so far (Keras's `optimizer.iterations`).
    var iterations: Int { get }
    /// Each slot laid out like the `ParameterStore`, in `slotNames` order (empty before the first update).
    var slots: [FloatBuffer] { get }
    /// Continues from a saved state: `iterations` updates taken, `slots` in `slotNames` order,
    /// each empty (no update yet) or one value per parameter.
    func restore(iterations: Int, slots: [[Float]])
    /// One update from the (already averaged) gradients; `trainable` are the store's ranges that
    /// Keras would hand the optimizer (not frozen layers', not moving statistics), which weight
    /// decay touches. Gradients outside them are zero.
    func update(_ store: ParameterStore, trainable: [Range<Int>])
}

/// What Keras's `apply` does before an optimizer's own rule: the gradients clipped, then the
/// trainable weights decayed at the rate of the update that follows `iterations` updates; returns that rate.
func prepareUpdate(_ store: ParameterStore, trainable: [Range<Int>], iterations: Int, schedule: LearningRateSchedule,
                   clipping: GradientClipping, weightDecay: Float) -> Float {
    clipping.apply(to: store)
    let learningRate = schedule.rate(iterations)
    applyWeightDecay(weightDecay, learningRate: learningRate, to: store, trainable: trainable)
    return learningRate
}

/// Keras's decoupled weight decay (`weight_decay=` of every optimizer, AdamW's 0.004), which Keras
/// applies to each trainable variable before the update: `w = w - w * wd * lr`, with the update's `lr`.
func applyWeightDecay(_ decay: Float, learningRate: Float, to store: ParameterStore, trainable: [Range<Int>]) {
    guard decay != 0 else { return }
    let p = store.values.pointer
    for range in trainable {
        for i in range { p[i] = p[i] - p[i] * decay * learningRate }
    }
}

public extension Optimizer {
    /// One update with every parameter trainable.
    func update(_ store: ParameterStore) { update(store, trainable: [0..<store.count]) }
}
