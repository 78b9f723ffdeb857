import NN

/// How a phase updates its weights: the optimizer and the learning-rate schedule, each as its
/// canonical specification (`OptimizerRegistry`, `ScheduleRegistry`), and the learning rate
/// (the schedule's start, or its peak after a warm-up).
public struct TrainingRule: Sendable, Equatable {
    public var optimizer = OptimizerRegistry.defaultName
    public var schedule = ScheduleRegistry.defaultName
    public var learningRate: Float = 0.001

    public init(optimizer: String = OptimizerRegistry.defaultName, schedule: String = ScheduleRegistry.defaultName, learningRate: Float = 0.001) {
        (self.optimizer, self.schedule, self.learningRate) = (optimizer, schedule, learningRate)
    }

    /// A fresh optimizer for a phase of `length`; a schedule that does not fit the phase is an error naming `scheduleFlag`.
    public func makeOptimizer(length: PhaseLength, scheduleFlag: String = "--schedule") throws -> Optimizer {
        let parameters = try OptimizerRegistry.resolve(optimizer)
        let schedule = try ScheduleRegistry.make(schedule, learningRate: learningRate, length: length, flag: scheduleFlag)
        return OptimizerRegistry.kind(parameters.name)!.make(parameters, schedule)
    }

    /// For summaries and reports: "learning rate 0.001, Adam", "learning rate 0.1, sgd:momentum=0.9, schedule cosine".
    public var description: String {
        "learning rate \(learningRate), " + (optimizer == OptimizerRegistry.defaultName ? "Adam" : optimizer)
            + (schedule == ScheduleRegistry.defaultName ? "" : ", schedule \(schedule)")
    }
}

extension TrainingRule {
    /// The command-line flags a rule is read from, for messages.
    public struct Flags: Sendable {
        public let optimizer: String, schedule: String, learningRate: String
        public init(optimizer: String, schedule: String, learningRate: String) {
            (self.optimizer, self.schedule, self.learningRate) = (optimizer, schedule, learningRate)
        }
        public static let shared = Flags(optimizer: "--optimizer", schedule: "--schedule", learningRate: "--learning-rate")
        public static let teacher = Flags(optimizer: "--teacher-optimizer", schedule: "--teacher-schedule", learningRate: "--teacher-learning-rate")
    }

    /// The teacher's rule where a teacher flag (`Flags.teacher`) makes it differ from the students'; nil otherwise.
    public static func teacher(optimizer: String?, schedule: String?, learningRate: Float?, students: TrainingRule) throws -> TrainingRule? {
        guard optimizer != nil || schedule != nil || learningRate != nil else { return nil }
        let rule = try parse(optimizer: optimizer, schedule: schedule, learningRate: learningRate, base: students, flags: .teacher)
        return rule == students ? nil : rule
    }

    /// `base` with what the flags give changed (nil: not given). `optimizer` is a specification
    /// (`sgd:momentum=0.9`, with Keras's default learning rate unless one is given) or a Keras optimizer JSON file (a path ending in .json or holding a '/'), which holds its
    /// own learning rate and schedule, so neither flag may be given with it. A piecewise schedule's
    /// values are the rates: the learning rate is its first, and giving one is refused.
    public static func parse(optimizer: String?, schedule: String?, learningRate: Float?, base: TrainingRule = TrainingRule(),
                             flags: Flags = .shared) throws -> TrainingRule {
        if let optimizer, optimizer.hasSuffix(".json") || optimizer.contains("/") {
            for (flag, given) in [(flags.schedule, schedule != nil), (flags.learningRate, learningRate != nil)] where given {
                throw TrainingError("\(flag) cannot be given with the Keras optimizer file \(optimizer): its learning_rate sets the rate and the schedule")
            }
            return try KerasOptimizerConfig.read(contentsOfFile: optimizer, flag: flags.optimizer)
        }
        var rule = base
        if let optimizer {
            let resolved = try OptimizerRegistry.resolve(optimizer, flag: flags.optimizer)
            rule.optimizer = resolved.canonical
            rule.learningRate = OptimizerRegistry.kind(resolved.name)!.defaultLearningRate   // Keras's, unless a rate is given
        }
        if let schedule { rule.schedule = try ScheduleRegistry.resolve(schedule, flag: flags.schedule).canonical }
        let resolved = try ScheduleRegistry.resolve(rule.schedule, flag: flags.schedule)
        if resolved.name == "piecewise" {
            if let learningRate {
                throw TrainingError("\(flags.learningRate) \(Specification.format(learningRate)) is not used with \(flags.schedule) piecewise, whose values are the rates")
            }
            rule.learningRate = resolved.numbers("values").first ?? rule.learningRate
        } else if let learningRate {
            rule.learningRate = learningRate
        }
        try SettingRanges.learningRate(rule.learningRate, name: flags.learningRate)
        return rule
    }
}
