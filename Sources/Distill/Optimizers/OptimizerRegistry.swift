import NN

/// An optimizer the command line can name (`--optimizer NAME[:key=value...]`): its Keras
/// parameters (names and defaults as Keras 3's) and how to make it around a learning-rate schedule.
public struct OptimizerKind: Sendable {
    public let schema: SpecificationSchema
    /// Keras's class name, as `keras.optimizers.serialize` writes it ("SGD").
    public let kerasClass: String
    /// Keras's default `learning_rate`, used when the command line names the optimizer but no rate.
    public let defaultLearningRate: Float
    public let make: @Sendable (_ parameters: Specification.Resolved, _ schedule: LearningRateSchedule) -> Optimizer

    public init(_ schema: SpecificationSchema, kerasClass: String, defaultLearningRate: Float,
                make: @escaping @Sendable (_ parameters: Specification.Resolved, _ schedule: LearningRateSchedule) -> Optimizer) {
        (self.schema, self.kerasClass, self.defaultLearningRate, self.make) = (schema, kerasClass, defaultLearningRate, make)
    }
}

/// Every optimizer by name. A new one is its `Optimizer` in `NN`, its `OptimizerKind` and one line in `builtIn`.
public enum OptimizerRegistry {
    public static let builtIn: [OptimizerKind] = [.adam, .adamW, .sgd]

    /// Keras's `compile(optimizer="adam")` and the recipe's since its first form.
    public static let defaultName = "adam"

    /// `text` checked against the optimizers; `flag` starts each message.
    public static func resolve(_ text: String, flag: String = "--optimizer") throws -> Specification.Resolved {
        let resolved = try Specification.parse(text, flag: flag, schemas: builtIn.map(\.schema))
        guard OptimizerKind.clippingKeys.filter({ resolved.number($0) != 0 }).count <= 1 else {
            throw Specification.error(flag, text, "give at most one of clipnorm, global_clipnorm and clipvalue, as Keras")
        }
        return resolved
    }

    public static func kind(_ name: String) -> OptimizerKind? { builtIn.first { $0.schema.name == name } }
}

extension OptimizerKind {
    private static let weightDecayHelp = "Keras's decoupled decay, w -= lr * weight_decay * w before each update"
    static let clippingKeys = ["clipnorm", "global_clipnorm", "clipvalue"]
    /// Keras's clipping options, which every optimizer takes; 0 is off.
    private static let clippingParameters: [SpecificationSchema.Parameter] = [
        .init("clipnorm", .number(default: 0, range: .init(0, 1e6)), help: "clip each variable's gradient to this norm"),
        .init("global_clipnorm", .number(default: 0, range: .init(0, 1e6)), help: "clip all gradients together to this norm"),
        .init("clipvalue", .number(default: 0, range: .init(0, 1e6)), help: "clip each gradient component to [-clipvalue, clipvalue]"),
    ]

    /// The clipping `p` asks for (at most one key is non-zero, as `OptimizerRegistry.resolve` checks).
    static func clipping(_ p: Specification.Resolved) -> GradientClipping {
        if p.number("clipnorm") > 0 { return .norm(p.number("clipnorm")) }
        if p.number("global_clipnorm") > 0 { return .globalNorm(p.number("global_clipnorm")) }
        if p.number("clipvalue") > 0 { return .value(p.number("clipvalue")) }
        return .none
    }
    private static func adamParameters(weightDecay: Float) -> [SpecificationSchema.Parameter] {
        [.init("beta_1", .number(default: 0.9, range: .init(0, 1, openUpper: true)), help: "decay of the first moment"),
         .init("beta_2", .number(default: 0.999, range: .init(0, 1, openUpper: true)), help: "decay of the second moment"),
         .init("epsilon", .number(default: 1e-7, range: .init(0, 1, openLower: true)), help: "added to the root of the second moment"),
         .init("weight_decay", .number(default: weightDecay, range: .init(0, 1)), help: weightDecayHelp)] + clippingParameters
    }

    /// Keras's `Adam`: lr 0.001 (`--learning-rate`), beta_1 0.9, beta_2 0.999, epsilon 1e-7, no weight decay.
    public static let adam = OptimizerKind(SpecificationSchema("adam", help: "Keras's Adam (beta_1, beta_2, epsilon, weight_decay)",
                                                               adamParameters(weightDecay: 0)), kerasClass: "Adam",
                                           defaultLearningRate: 0.001) { p, schedule in
        Adam(schedule: schedule, beta1: p.number("beta_1"), beta2: p.number("beta_2"), epsilon: p.number("epsilon"),
             weightDecay: p.number("weight_decay"), clipping: clipping(p))
    }

    /// Keras's `AdamW`: Adam with weight_decay 0.004 by default.
    public static let adamW = OptimizerKind(SpecificationSchema("adamw", help: "Keras's AdamW, Adam with weight_decay 0.004 by default",
                                                                adamParameters(weightDecay: 0.004)), kerasClass: "AdamW",
                                            defaultLearningRate: 0.001) { p, schedule in
        Adam(schedule: schedule, beta1: p.number("beta_1"), beta2: p.number("beta_2"), epsilon: p.number("epsilon"),
             weightDecay: p.number("weight_decay"), clipping: clipping(p), name: "AdamW")
    }

    /// Keras's `SGD`: learning rate 0.01, momentum 0, nesterov off, no weight decay.
    public static let sgd = OptimizerKind(SpecificationSchema("sgd", help: "Keras's SGD (momentum, nesterov, weight_decay)", [
        .init("momentum", .number(default: 0, range: .init(0, 1)), help: "v = momentum * v - lr * g, then w += v"),
        .init("nesterov", .toggle, help: "w += momentum * v - lr * g instead"),
        .init("weight_decay", .number(default: 0, range: .init(0, 1)), help: weightDecayHelp),
    ] + clippingParameters), kerasClass: "SGD", defaultLearningRate: 0.01) { p, schedule in
        SGD(schedule: schedule, momentum: p.number("momentum"), nesterov: p.isOn("nesterov"), weightDecay: p.number("weight_decay"),
            clipping: clipping(p))
    }
}
