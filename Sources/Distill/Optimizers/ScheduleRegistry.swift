import NN

/// How long a phase is in optimizer steps, for schedules given in epochs.
public struct PhaseLength: Sendable {
    public let stepsPerEpoch: Int, epochs: Int
    public init(stepsPerEpoch: Int, epochs: Int) { (self.stepsPerEpoch, self.epochs) = (stepsPerEpoch, epochs) }
    public var steps: Int { stepsPerEpoch * epochs }
}

/// A learning-rate schedule the command line can name (`--schedule NAME[:key=value...]`), made
/// from its parameters, the learning rate (`--learning-rate`) and the phase's length.
public struct ScheduleKind: Sendable {
    public let schema: SpecificationSchema
    public let make: @Sendable (_ parameters: Specification.Resolved, _ learningRate: Float, _ length: PhaseLength) throws -> LearningRateSchedule

    public init(_ schema: SpecificationSchema,
                make: @escaping @Sendable (Specification.Resolved, Float, PhaseLength) throws -> LearningRateSchedule) {
        (self.schema, self.make) = (schema, make)
    }
}

/// Every schedule by name, each Keras's (`keras.optimizers.schedules`) with its lengths in epochs
/// (the default) or steps. A new one is its `LearningRateSchedule` in `NN`, its kind and one line in `builtIn`.
public enum ScheduleRegistry {
    public static let builtIn: [ScheduleKind] = [.constant, .cosine, .exponential, .piecewise]

    public static let defaultName = "constant"

    public static func resolve(_ text: String, flag: String = "--schedule") throws -> Specification.Resolved {
        try Specification.parse(text, flag: flag, schemas: builtIn.map(\.schema))
    }

    public static func make(_ text: String, learningRate: Float, length: PhaseLength, flag: String = "--schedule") throws -> LearningRateSchedule {
        let parameters = try resolve(text, flag: flag)
        do {
            return try builtIn.first { $0.schema.name == parameters.name }!.make(parameters, learningRate, length)
        } catch let error as ScheduleError {
            throw Specification.error(flag, text, error.message)
        }
    }
}

/// A schedule whose parameters do not fit the phase (a boundary past its end); the registry adds the flag.
struct ScheduleError: Error { let message: String }

extension ScheduleKind {
    private static let unit = SpecificationSchema.Parameter("unit", .choice(default: "epochs", among: ["epochs", "steps"]),
                                                            help: "what the lengths count")

    /// `length` in steps: epochs times steps per epoch (rounded), or steps as given (whole numbers only).
    private static func steps(_ length: Float, _ p: Specification.Resolved, _ phase: PhaseLength) throws -> Int {
        guard p.choice("unit") == "steps" else { return Int((Double(length) * Double(phase.stepsPerEpoch)).rounded()) }
        guard length == length.rounded() else { throw ScheduleError(message: "a length in steps is a whole number, got \(Specification.format(length))") }
        return Int(length)
    }

    private static let count = SpecificationSchema.Interval(0, 100_000_000)

    public static let constant = ScheduleKind(SpecificationSchema("constant", help: "the learning rate throughout", [])) { _, rate, _ in
        ConstantLearningRate(rate)
    }

    /// Keras's `CosineDecay`, `--learning-rate` its peak: with `warmup`, a linear rise from
    /// `warmup_from` to it (`initial_learning_rate` and `warmup_target` in Keras), then the decay.
    public static let cosine = ScheduleKind(SpecificationSchema("cosine", help: "Keras's CosineDecay from --learning-rate to alpha times it, after an optional linear warm-up", [
        .init("decay", .number(default: 0, range: count), help: "length of the decay; 0: the rest of the phase after the warm-up"),
        .init("warmup", .number(default: 0, range: count), help: "length of the warm-up"),
        .init("warmup_from", .number(default: 0, range: .init(0, 10)), help: "the rate the warm-up starts at"),
        .init("alpha", .number(default: 0, range: .init(0, 1)), help: "the final rate as a fraction of the peak"),
        unit,
    ])) { p, rate, phase in
        let warmup = try steps(p.number("warmup"), p, phase)
        let decay = p.number("decay") == 0 ? phase.steps - warmup : try steps(p.number("decay"), p, phase)
        guard decay > 0 else { throw ScheduleError(message: "the decay has no steps left (the phase has \(phase.steps) steps, the warm-up \(warmup))") }
        return warmup > 0
            ? CosineDecay(initialLearningRate: p.number("warmup_from"), decaySteps: decay, alpha: p.number("alpha"), warmupTarget: rate, warmupSteps: warmup)
            : CosineDecay(initialLearningRate: rate, decaySteps: decay, alpha: p.number("alpha"))
    }

    /// Keras's `ExponentialDecay(--learning-rate, decay, rate, staircase)`.
    public static let exponential = ScheduleKind(SpecificationSchema("exponential", help: "Keras's ExponentialDecay: --learning-rate * rate^(step / decay)", [
        .init("decay", .number(default: 1, range: .init(0, 100_000_000, openLower: true)), help: "the length over which the rate is multiplied by rate"),
        .init("rate", .number(default: 0.96, range: .init(0, 10, openLower: true)), help: "the factor per decay length"),
        .init("staircase", .toggle, help: "whole decay lengths only"),
        unit,
    ])) { p, rate, phase in
        let decay = try steps(p.number("decay"), p, phase)
        guard decay > 0 else { throw ScheduleError(message: "decay is shorter than one step") }
        return ExponentialDecay(initialLearningRate: rate, decaySteps: decay, decayRate: p.number("rate"), staircase: p.isOn("staircase"))
    }

    /// Keras's `PiecewiseConstantDecay(boundaries, values)`. A boundary of E epochs changes the rate
    /// from the first step of epoch E + 1 (Keras's step boundary E * steps per epoch - 1); the values
    /// are the rates, so `--learning-rate` is not used.
    public static let piecewise = ScheduleKind(SpecificationSchema("piecewise", help: "Keras's PiecewiseConstantDecay: values[i] after boundaries[i - 1], e.g. boundaries=150/180/210:values=0.05/0.005/0.0005/0.00005", [
        .init("boundaries", .list(range: count), help: "increasing, separated by '/'"),
        .init("values", .list(range: .init(0, 10)), help: "the rates, one more than boundaries"),
        unit,
    ])) { p, _, phase in
        let given = p.numbers("boundaries"), values = p.numbers("values")
        guard !given.isEmpty, values.count == given.count + 1 else {
            throw ScheduleError(message: "needs boundaries=B1/B2/... and one value more in values=V0/V1/..., got \(given.count) and \(values.count)")
        }
        let boundaries = try given.map { p.choice("unit") == "steps" ? try steps($0, p, phase) : try steps($0, p, phase) - 1 }
        guard zip(boundaries, boundaries.dropFirst()).allSatisfy({ $0 < $1 }), boundaries[0] >= 0 else {
            throw ScheduleError(message: "the boundaries must increase (in steps: \(boundaries.map(String.init).joined(separator: "/")))")
        }
        return PiecewiseConstantDecay(boundaries: boundaries, values: values)
    }
}
