/// Stochastic gradient descent exactly as Keras 3's `SGD`: with `momentum` m > 0, the velocity
/// `v = v * m - g * lr`, then `p += v`, or with `nesterov` `p += v * m - g * lr`; with momentum 0,
/// `p -= g * lr` and no slot. `lr` is the schedule's at the update's step; the gradients are
/// clipped first and, with `weightDecay`, Keras's decoupled decay comes next. Float32 throughout,
/// each product rounded as Keras's ops are.
public final class SGD: Optimizer {
    public let schedule: LearningRateSchedule
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public let clipping: GradientClipping
    public let name = "SGD"
    public let stateName = "sgd"
    public let slotNames: [String]
    public private(set) var iterations = 0
    private var velocity = FloatBuffer(count: 0)

    public init(schedule: LearningRateSchedule = ConstantLearningRate(0.01), momentum: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, clipping: GradientClipping = .none) {
        (self.schedule, self.momentum, self.nesterov, self.weightDecay, self.clipping) = (schedule, momentum, nesterov, weightDecay, clipping)
        slotNames = momentum != 0 ? ["momentum"] : []
    }

    public var slots: [FloatBuffer] { momentum != 0 ? [velocity] : [] }

    public func restore(iterations: Int, slots saved: [[Float]]) {
        precondition(saved.count == slotNames.count, "SGD slots do not match its momentum")
        velocity = FloatBuffer(count: saved.first?.count ?? 0)
        for (i, value) in (saved.first ?? []).enumerated() { velocity.pointer[i] = value }
        self.iterations = iterations
    }

    public func update(_ store: ParameterStore, trainable: [Range<Int>]) {
        if momentum != 0 && velocity.count != store.count {
            velocity = FloatBuffer(count: store.count)
            iterations = 0
        }
        let learningRate = prepareUpdate(store, trainable: trainable, iterations: iterations, schedule: schedule,
                                         clipping: clipping, weightDecay: weightDecay)
        iterations += 1
        let p = store.values.pointer, g = store.gradients.pointer, v = velocity.pointer, count = store.count
        if momentum == 0 {
            for i in 0..<count { p[i] -= g[i] * learningRate }
        } else if nesterov {
            for i in 0..<count {
                v[i] = v[i] * momentum - g[i] * learningRate
                p[i] += v[i] * momentum - g[i] * learningRate
            }
        } else {
            for i in 0..<count {
                v[i] = v[i] * momentum - g[i] * learningRate
                p[i] += v[i]
            }
        }
    }
}
