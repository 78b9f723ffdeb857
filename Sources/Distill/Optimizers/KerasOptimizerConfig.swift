import Foundation
import NN

/// A Keras optimizer as `keras.optimizers.serialize(optimizer)` writes it, `{"class_name": "SGD",
/// "config": {...}}` with its `get_config()` inside (a schedule serialised as its `learning_rate`),
/// read into the `TrainingRule` the command line would write for it: `SGD`, `Adam`, `AdamW`;
/// `CosineDecay`, `ExponentialDecay`, `PiecewiseConstantDecay` (lengths in steps, as Keras counts
/// them), clipping included. Every key is honoured or refused with a one-line error: none is
/// ignored, except `name` and the EMA settings that have no effect while `use_ema` is false.
public enum KerasOptimizerConfig {
    /// The rule in the JSON file at `path`; messages start with `flag` and the path.
    public static func read(contentsOfFile path: String, flag: String) throws -> TrainingRule {
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError("\(flag) \(path): cannot read the file") }
        let document: JSONValue
        do {
            document = try JSONValue.parse([UInt8](data), source: "\(flag) \(path)")
        } catch let error as ModelError {
            throw TrainingError(error.description)
        }
        return try rule(document, source: "\(flag) \(path)")
    }

    /// The rule in a parsed document; messages start with `source`.
    public static func rule(_ document: JSONValue, source: String) throws -> TrainingRule {
        let fail = { (what: String) in TrainingError("\(source): \(what)") }
        guard let className = document["class_name"]?.string, let config = document["config"]?.object else {
            throw fail("expected a serialised Keras optimizer, {\"class_name\": \"SGD\", \"config\": {...}}, as keras.optimizers.serialize writes it")
        }
        let extra = Set(document.object!.keys).subtracting(["class_name", "config", "module", "registered_name"])
        if let key = extra.sorted().first { throw fail("unknown key '\(key)' beside class_name and config") }
        guard let kind = OptimizerRegistry.builtIn.first(where: { $0.kerasClass == className }) else {
            throw fail("optimizer class \(className) is not supported; expected one of \(OptimizerRegistry.builtIn.map(\.kerasClass).joined(separator: ", "))")
        }
        var reader = ConfigReader(config, source: "\(source): \(className)")
        _ = reader.take("name")
        // Keras's own switches that would change the update: refused unless off.
        for key in ["loss_scale_factor", "gradient_accumulation_steps"] {
            if let value = reader.take(key), value != .null { throw reader.fail("\(key) \(value.text) is not supported; expected null") }
        }
        let ema = reader.take("use_ema")
        guard ema == nil || ema == .bool(false) else { throw reader.fail("use_ema \(ema!.text) is not supported; expected false") }
        _ = (reader.take("ema_momentum"), reader.take("ema_overwrite_frequency"))   // inert without use_ema
        var parameters: [String] = []
        for key in OptimizerKind.clippingKeys {
            if let value = reader.take(key), value != .null { parameters.append("\(key)=\(Specification.format(try reader.number(value, key)))") }
        }
        if let decay = reader.take("weight_decay"), decay != .null { parameters.append("weight_decay=\(Specification.format(try reader.number(decay, "weight_decay")))") }
        switch kind.schema.name {
        case "sgd":
            if let value = reader.take("momentum") { parameters.append("momentum=\(Specification.format(try reader.number(value, "momentum")))") }
            if let value = reader.take("nesterov") {
                guard let on = value.bool else { throw reader.fail("nesterov must be true or false, got \(value.text)") }
                if on { parameters.append("nesterov") }
            }
        default:
            for key in ["beta_1", "beta_2", "epsilon"] {
                if let value = reader.take(key) { parameters.append("\(key)=\(Specification.format(try reader.number(value, key)))") }
            }
            if let value = reader.take("amsgrad"), value != .bool(false) { throw reader.fail("amsgrad \(value.text) is not supported; expected false") }
        }
        guard let rate = reader.take("learning_rate") else { throw reader.fail("lacks learning_rate") }
        let (schedule, learningRate) = try Self.schedule(rate, reader: reader)
        try reader.finish()
        let optimizer = try OptimizerRegistry.resolve(([kind.schema.name] + parameters).joined(separator: ":"), flag: source).canonical
        try SettingRanges.learningRate(learningRate, name: "\(source): learning_rate")
        return TrainingRule(optimizer: optimizer, schedule: try ScheduleRegistry.resolve(schedule, flag: source).canonical, learningRate: learningRate)
    }

    /// The schedule's specification and the learning rate, from `learning_rate` (a number or a serialised schedule).
    private static func schedule(_ value: JSONValue, reader outer: ConfigReader) throws -> (String, Float) {
        if case .number = value { return (ScheduleRegistry.defaultName, Float(try outer.number(value, "learning_rate"))) }
        guard let className = value["class_name"]?.string, let config = value["config"]?.object else {
            throw outer.fail("learning_rate must be a number or a serialised schedule {\"class_name\": ..., \"config\": {...}}, got \(value.text)")
        }
        var reader = ConfigReader(config, source: "\(outer.source) learning_rate \(className)")
        _ = reader.take("name")
        func number(_ key: String) throws -> Float {
            guard let value = reader.take(key) else { throw reader.fail("lacks \(key)") }
            return try reader.number(value, key)
        }
        func steps(_ key: String) throws -> Int {
            guard let value = reader.take(key), let count = value.int, count > 0 else {
                throw reader.fail("\(key) must be a positive whole number of steps, got \(reader.config[key]?.text ?? "nothing")")
            }
            return count
        }
        let format = Specification.format
        let result: (String, Float)
        switch className {
        case "CosineDecay":
            let (initial, decay, alpha) = (try number("initial_learning_rate"), try steps("decay_steps"), try number("alpha"))
            let target = reader.take("warmup_target") ?? .null, warmupValue = reader.take("warmup_steps") ?? .number(0)
            guard let warmup = warmupValue.int, warmup >= 0 else { throw reader.fail("warmup_steps must be a whole number of steps, got \(warmupValue.text)") }
            if target == .null {
                result = ("cosine:decay=\(decay):alpha=\(format(alpha)):unit=steps", initial)   // Keras ignores warmup_steps without a target
            } else {
                result = ("cosine:decay=\(decay):warmup=\(warmup):warmup_from=\(format(initial)):alpha=\(format(alpha)):unit=steps",
                          try reader.number(target, "warmup_target"))
            }
        case "ExponentialDecay":
            let staircase = reader.take("staircase")?.bool ?? false
            result = ("exponential:decay=\(try steps("decay_steps")):rate=\(format(try number("decay_rate")))\(staircase ? ":staircase" : ""):unit=steps",
                      try number("initial_learning_rate"))
        case "PiecewiseConstantDecay":
            let listed = reader.take("boundaries")?.array
            guard let boundaries = listed?.compactMap(\.int), boundaries.count == listed?.count, !boundaries.isEmpty,
                  let values = reader.take("values")?.array else {
                throw reader.fail("needs boundaries (whole numbers of steps) and values")
            }
            let rates = try values.map { try reader.number($0, "values") }
            result = ("piecewise:boundaries=\(boundaries.map(String.init).joined(separator: "/")):values=\(rates.map(format).joined(separator: "/")):unit=steps",
                      rates.first ?? 0)
        default:
            throw reader.fail("is not a supported schedule; expected CosineDecay, ExponentialDecay or PiecewiseConstantDecay")
        }
        try reader.finish()
        return result
    }

    /// Takes a config's keys one by one, so that any left over is refused by name.
    private struct ConfigReader {
        let config: [String: JSONValue], source: String
        private var left: Set<String>
        init(_ config: [String: JSONValue], source: String) { (self.config, self.source, left) = (config, source, Set(config.keys)) }

        mutating func take(_ key: String) -> JSONValue? { left.remove(key); return config[key] }
        func fail(_ what: String) -> TrainingError { TrainingError("\(source): \(what)") }
        func number(_ value: JSONValue, _ key: String) throws -> Float {
            guard case .number(let x) = value, x.isFinite, abs(x) < 1e30 else { throw fail("\(key) must be a number, got \(value.text)") }
            return Float(x)
        }
        func finish() throws {
            if let key = left.sorted().first { throw fail("key '\(key)' is not supported") }
        }
    }
}
