import ArgumentParser
import Distill

/// How the students (and, unless the teacher flags say otherwise, the teacher) update their weights.
struct OptimizerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The optimizer, with Keras's names and defaults: "
        + OptimizerRegistry.builtIn.map { "\($0.schema.name) (\(parameterList($0.schema)))" }.joined(separator: ", ")
        + "; or a Keras optimizer JSON file (a path ending in .json or holding a '/') as keras.optimizers.serialize writes it, whose learning_rate holds the rate and the schedule. Default: adam.",
        valueName: "name[:key=value...]|file.json"))
    var optimizer: String?

    @Option(help: scheduleHelp)
    var schedule: String?

    @Option(help: "The learning rate, in (0, 10]: the schedule's start, or its peak after a warm-up. Default: Keras's for the optimizer, 0.001 for adam and adamw, 0.01 for sgd.", transform: decimal)
    var learningRate: Float?

    var rule: TrainingRule {
        get throws { try TrainingRule.parse(optimizer: optimizer, schedule: schedule, learningRate: learningRate) }
    }

    func validate() throws {
        do { _ = try rule } catch let error as TrainingError { throw ValidationError(error.description) }
    }
}

/// `--schedule`'s help: every schedule and its parameters.
let scheduleHelp = ArgumentHelp(
    "The learning-rate schedule, applied per step; lengths in epochs unless :unit=steps. "
        + ScheduleRegistry.builtIn.map { "\($0.schema.name): \($0.schema.help)"
            + ($0.schema.parameters.isEmpty ? "" : " (\(parameterList($0.schema)))") }.joined(separator: "; ") + ". Default: constant.",
    valueName: "name[:key=value...]")

/// "momentum=0 (v = ...), nesterov (...)": a schema's parameters with their defaults, for help texts.
func parameterList(_ schema: SpecificationSchema) -> String {
    schema.parameters.map { parameter in
        switch parameter.kind {
        case .number(let value, _): "\(parameter.key)=\(Specification.format(value)): \(parameter.help)"
        case .toggle: "\(parameter.key): \(parameter.help)"
        case .choice(let value, let options): "\(parameter.key)=\(options.joined(separator: "|")) (\(value)): \(parameter.help)"
        case .list: "\(parameter.key)=A/B/...: \(parameter.help)"
        }
    }.joined(separator: ", ")
}
