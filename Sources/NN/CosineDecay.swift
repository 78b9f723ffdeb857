import Foundation

/// Keras 3's `CosineDecay(initial_learning_rate, decay_steps, alpha, warmup_target, warmup_steps)`,
/// in Float32 as Keras computes it. Without a warm-up target: `lr0 * ((1 - alpha) * c + alpha)` with
/// `c = 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))`. With one: the rate rises
/// linearly from `lr0` to the target over `warmup_steps` steps, then decays from the target as
/// above over `decay_steps` more; after the decay it stays at `alpha` times its start.
public struct CosineDecay: LearningRateSchedule {
    public let initialLearningRate: Float
    public let decaySteps: Int
    public let alpha: Float
    public let warmupTarget: Float?
    public let warmupSteps: Int

    public init(initialLearningRate: Float, decaySteps: Int, alpha: Float = 0, warmupTarget: Float? = nil, warmupSteps: Int = 0) {
        precondition(decaySteps > 0 && warmupSteps >= 0, "CosineDecay needs decay_steps > 0 and warmup_steps >= 0")
        (self.initialLearningRate, self.decaySteps, self.alpha) = (initialLearningRate, decaySteps, alpha)
        (self.warmupTarget, self.warmupSteps) = (warmupTarget, warmupSteps)
    }

    public func rate(_ iterations: Int) -> Float {
        let decay = Float(decaySteps)
        let step = Float(iterations)
        guard let target = warmupTarget else { return decayed(min(step, decay), from: initialLearningRate) }
        let warmup = Float(warmupSteps)
        let clipped = min(step, decay + warmup)
        if clipped < warmup { return (target - initialLearningRate) * (clipped / warmup) + initialLearningRate }
        return decayed(clipped - warmup, from: target)
    }

    private func decayed(_ step: Float, from rate: Float) -> Float {
        // Keras's pi is math.pi rounded to float32, not Swift's `Float.pi` (rounded toward zero);
        // its `1 - alpha` is taken in Python's double before the cast.
        let cosine: Float = 0.5 * (1 + cos(Float(Double.pi) * (step / Float(decaySteps))))
        return rate * (Float(1 - Double(alpha)) * cosine + alpha)
    }
}
