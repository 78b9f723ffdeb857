import Foundation

/// Adam exactly as Keras: `m += (g - m)(1 - b1)`, `v += (g^2 - v)(1 - b2)`,
/// `p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`, with `lr` from the schedule at
/// the update's step; the gradients clipped first and, with `weightDecay`, Keras's decoupled decay
/// next (AdamW is this with 0.004).
/// Moments live in flat buffers laid out like the model's `ParameterStore`.
public final class Adam: Optimizer {
    public let schedule: LearningRateSchedule
    public let beta1: Float, beta2: Float, epsilon: Float
    public let weightDecay: Float
    public let clipping: GradientClipping
    public let name: String
    public let stateName = "adam"
    public let slotNames = ["m", "v"]
    public private(set) var iterations = 0
    private var m = FloatBuffer(count: 0), v = FloatBuffer(count: 0)

    public convenience init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7) {
        self.init(schedule: ConstantLearningRate(learningRate), beta1: beta1, beta2: beta2, epsilon: epsilon)
    }

    /// `name` is Keras's class: "Adam", or "AdamW" (whose Keras default `weightDecay` is 0.004).
    public init(schedule: LearningRateSchedule, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
                weightDecay: Float = 0, clipping: GradientClipping = .none, name: String = "Adam") {
        (self.schedule, self.clipping) = (schedule, clipping)
        (self.beta1, self.beta2, self.epsilon, self.weightDecay, self.name) = (beta1, beta2, epsilon, weightDecay, name)
    }

    /// The first and second moments, laid out like the model's `ParameterStore` (empty before the first update).
    public var slots: [FloatBuffer] { [m, v] }

    public func restore(iterations: Int, slots saved: [[Float]]) {
        precondition(saved.count == 2 && saved[0].count == saved[1].count, "Adam moments of different sizes")
        m = FloatBuffer(count: saved[0].count)
        v = FloatBuffer(count: saved[1].count)
        for i in 0..<saved[0].count { (m.pointer[i], v.pointer[i]) = (saved[0][i], saved[1][i]) }
        self.iterations = iterations
    }

    public func update(_ store: ParameterStore, trainable: [Range<Int>]) {
        if m.count != store.count {
            m = FloatBuffer(count: store.count)
            v = FloatBuffer(count: store.count)
            iterations = 0
        }
        let learningRate = prepareUpdate(store, trainable: trainable, iterations: iterations, schedule: schedule,
                                         clipping: clipping, weightDecay: weightDecay)
        iterations += 1
        let t = Double(iterations)
        let stepSize = Float(Double(learningRate) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t)))
        let p = store.values.pointer, g = store.gradients.pointer, m = m.pointer, v = v.pointer
        let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
        var i = 0
        // Sixteen lanes, each exactly the scalar update below. A zero gradient with zero moments
        // (frozen weights, moving statistics) moves nothing.
        let b1 = Float16x(repeating: oneMinusBeta1), b2 = Float16x(repeating: oneMinusBeta2)
        let step = Float16x(repeating: stepSize), eps = Float16x(repeating: epsilon)
        while i + 16 <= store.count {
            let gi = load16(g + i)
            var mi = load16(m + i), vi = load16(v + i)
            mi += (gi - mi) * b1
            vi += (gi * gi - vi) * b2
            store16(mi, m + i)
            store16(vi, v + i)
            store16(load16(p + i) - step * mi / (vi.squareRoot() + eps), p + i)
            i += 16
        }
        for j in i..<store.count {
            m[j] += (g[j] - m[j]) * oneMinusBeta1
            v[j] += (g[j] * g[j] - v[j]) * oneMinusBeta2
            p[j] -= stepSize * m[j] / (v[j].squareRoot() + epsilon)
        }
    }
}
