import Foundation

/// Keras 3's `ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase)`:
/// `lr0 * decay_rate ^ (step / decay_steps)`, the exponent floored with `staircase`; Float32.
public struct ExponentialDecay: LearningRateSchedule {
    public let initialLearningRate: Float
    public let decaySteps: Int
    public let decayRate: Float
    public let staircase: Bool

    public init(initialLearningRate: Float, decaySteps: Int, decayRate: Float, staircase: Bool = false) {
        precondition(decaySteps > 0, "ExponentialDecay needs decay_steps > 0")
        (self.initialLearningRate, self.decaySteps, self.decayRate, self.staircase) = (initialLearningRate, decaySteps, decayRate, staircase)
    }

    public func rate(_ iterations: Int) -> Float {
        let exponent = Float(iterations) / Float(decaySteps)
        return initialLearningRate * pow(decayRate, staircase ? exponent.rounded(.down) : exponent)
    }
}
