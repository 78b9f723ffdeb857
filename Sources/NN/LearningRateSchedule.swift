/// The learning rate as a function of the optimizer's step count, as Keras's
/// `keras.optimizers.schedules`: the update that follows `iterations` updates uses
/// `rate(iterations)` (Keras calls the schedule with `optimizer.iterations`, before it counts
/// the update). A pure function of the count, so a resumed run continues on the same rates.
public protocol LearningRateSchedule: Sendable {
    func rate(_ iterations: Int) -> Float
}

/// A fixed learning rate, Keras's `learning_rate=0.001`.
public struct ConstantLearningRate: LearningRateSchedule {
    public let value: Float
    public init(_ value: Float) { self.value = value }
    public func rate(_ iterations: Int) -> Float { value }
}
