import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// `--optimizer`, `--schedule`, `--learning-rate` and their Keras JSON form: Keras's defaults, the
/// lengths in epochs, each refusal's line, a fuzz of the JSON reader, the optimizers' slots in a
/// training state, and weight decay left off what Keras does not train.
final class TrainingRuleTests: XCTestCase {
    private func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "accepted" } catch { return (error as? TrainingError)?.description ?? "not a TrainingError: \(error)" }
    }

    // MARK: Specifications

    func testOptimizersHaveKerasDefaults() throws {
        let length = PhaseLength(stepsPerEpoch: 10, epochs: 2)
        let adam = try XCTUnwrap(try TrainingRule().makeOptimizer(length: length) as? Adam)
        XCTAssertEqual([adam.beta1, adam.beta2, adam.epsilon, adam.weightDecay, adam.schedule.rate(7)], [0.9, 0.999, 1e-7, 0, 0.001])
        let adamW = try XCTUnwrap(try TrainingRule(optimizer: "adamw").makeOptimizer(length: length) as? Adam)
        XCTAssertEqual(adamW.name, "AdamW")
        XCTAssertEqual(adamW.weightDecay, 0.004)
        let sgd = try XCTUnwrap(try TrainingRule(optimizer: "sgd").makeOptimizer(length: length) as? SGD)
        XCTAssertEqual([sgd.momentum, sgd.weightDecay, sgd.schedule.rate(0)], [0, 0, 0.001])
        XCTAssertFalse(sgd.nesterov)
        XCTAssertEqual(sgd.slotNames, [])
        let rule = try TrainingRule.parse(optimizer: "sgd:nesterov:momentum=0.90", schedule: "cosine:alpha=0", learningRate: 0.1)
        XCTAssertEqual(rule, TrainingRule(optimizer: "sgd:momentum=0.9:nesterov", schedule: "cosine", learningRate: 0.1), "canonical texts")
        XCTAssertEqual(try TrainingRule.parse(optimizer: nil, schedule: nil, learningRate: nil), TrainingRule())
        XCTAssertEqual(try TrainingRule.parse(optimizer: "sgd", schedule: nil, learningRate: nil).learningRate, 0.01, "Keras's SGD rate")
        XCTAssertEqual(try TrainingRule.parse(optimizer: "sgd", schedule: nil, learningRate: 0.2).learningRate, 0.2)
        let students = try TrainingRule.parse(optimizer: "sgd", schedule: "cosine", learningRate: 0.2)
        XCTAssertEqual(try TrainingRule.parse(optimizer: nil, schedule: nil, learningRate: 0.05, base: students, flags: .teacher),
                       TrainingRule(optimizer: "sgd", schedule: "cosine", learningRate: 0.05), "a teacher flag changes only itself")
        XCTAssertEqual(try TrainingRule.parse(optimizer: "adam", schedule: nil, learningRate: nil, base: students, flags: .teacher),
                       TrainingRule(optimizer: "adam", schedule: "cosine", learningRate: 0.001), "another optimizer takes its own default rate")
        XCTAssertEqual(try TrainingRule.parse(optimizer: "adam:weight_decay=0", schedule: "constant", learningRate: 0.001), TrainingRule(),
                       "the defaults written out are the defaults")
    }

    /// Lengths in epochs: a piecewise boundary of E epochs changes the rate at the first step of
    /// epoch E + 1; a warm-up of one epoch peaks at step 10; a cosine decay left at 0 ends with the phase.
    func testScheduleLengthsCountEpochs() throws {
        let phase = PhaseLength(stepsPerEpoch: 10, epochs: 5)
        let piecewise = try ScheduleRegistry.make("piecewise:boundaries=2/4:values=0.1/0.01/0.001", learningRate: 1, length: phase)
        XCTAssertEqual([0, 19, 20, 39, 40, 49].map(piecewise.rate), [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
        let steps = try ScheduleRegistry.make("piecewise:boundaries=20/40:values=0.1/0.01/0.001:unit=steps", learningRate: 1, length: phase)
        XCTAssertEqual([20, 21, 40, 41].map(steps.rate), [0.1, 0.01, 0.01, 0.001], "in steps, Keras's own boundaries")
        let cosine = try ScheduleRegistry.make("cosine:warmup=1:warmup_from=0.01:alpha=0.1", learningRate: 0.5, length: phase)
        XCTAssertEqual(cosine.rate(0), 0.01)
        XCTAssertEqual(cosine.rate(10), 0.5, "the peak ends the warm-up")
        XCTAssertLessThan(cosine.rate(5), 0.5)
        XCTAssertEqual(cosine.rate(50), 0.05, accuracy: 1e-8, "the decay ends with the phase at alpha times the peak")
        XCTAssertGreaterThan(cosine.rate(49), 0.05)
        XCTAssertEqual(cosine.rate(500), cosine.rate(50), "and stays there")
        let exponential = try ScheduleRegistry.make("exponential:decay=2:rate=0.5:staircase", learningRate: 0.8, length: phase)
        XCTAssertEqual([0, 19, 20, 40].map(exponential.rate), [0.8, 0.8, 0.4, 0.2])
        let half = try ScheduleRegistry.make("cosine:decay=0.5", learningRate: 1, length: phase)
        XCTAssertEqual(half.rate(5), 0, accuracy: 1e-7, "half an epoch is five steps")
    }

    func testRefusalsAreOneLineNamingTheFlag() throws {
        let phase = PhaseLength(stepsPerEpoch: 10, epochs: 3)
        func schedule(_ text: String) -> String { message { try ScheduleRegistry.make(text, learningRate: 0.1, length: phase) } }
        XCTAssertEqual(schedule("cosine:warmup=5"), "--schedule 'cosine:warmup=5': the decay has no steps left (the phase has 30 steps, the warm-up 50)")
        XCTAssertEqual(schedule("piecewise"), "--schedule 'piecewise': needs boundaries=B1/B2/... and one value more in values=V0/V1/..., got 0 and 0")
        XCTAssertEqual(schedule("piecewise:boundaries=2/1:values=1/2/3"), "--schedule 'piecewise:boundaries=2/1:values=1/2/3': the boundaries must increase (in steps: 19/9)")
        XCTAssertEqual(schedule("piecewise:boundaries=0:values=1/2"), "--schedule 'piecewise:boundaries=0:values=1/2': the boundaries must increase (in steps: -1)")
        XCTAssertEqual(schedule("cosine:decay=2.5:unit=steps"), "--schedule 'cosine:decay=2.5:unit=steps': a length in steps is a whole number, got 2.5")
        XCTAssertEqual(schedule("exponential:decay=0.01"), "--schedule 'exponential:decay=0.01': decay is shorter than one step")
        XCTAssertEqual(schedule("step"), "--schedule 'step': unknown name 'step'; expected one of constant, cosine, exponential, piecewise")
        XCTAssertEqual(message { try OptimizerRegistry.resolve("sgd:momentum=1.5") }, "--optimizer 'sgd:momentum=1.5': momentum must be in [0, 1], got 1.5")
        XCTAssertEqual(message { try OptimizerRegistry.resolve("sgd:clipnorm=1:global_clipnorm=1") },
                       "--optimizer 'sgd:clipnorm=1:global_clipnorm=1': give at most one of clipnorm, global_clipnorm and clipvalue, as Keras")
        XCTAssertEqual(message { try OptimizerRegistry.resolve("rmsprop") }, "--optimizer 'rmsprop': unknown name 'rmsprop'; expected one of adam, adamw, sgd")
        XCTAssertEqual(message { try TrainingRule.parse(optimizer: nil, schedule: "piecewise:boundaries=1:values=0.1/0.01", learningRate: 0.1) },
                       "--learning-rate 0.1 is not used with --schedule piecewise, whose values are the rates")
        XCTAssertEqual(try TrainingRule.parse(optimizer: nil, schedule: "piecewise:boundaries=1:values=0.1/0.01", learningRate: nil).learningRate, 0.1)
        XCTAssertEqual(message { try TrainingRule.parse(optimizer: "opt.json", schedule: "cosine", learningRate: nil) },
                       "--schedule cannot be given with the Keras optimizer file opt.json: its learning_rate sets the rate and the schedule")
        XCTAssertEqual(message { try TrainingRule.parse(optimizer: nil, schedule: nil, learningRate: 11) },
                       "--learning-rate must be a positive number up to 10, got 11.0")
        XCTAssertEqual(message { try TrainingRule.parse(optimizer: nil, schedule: nil, learningRate: 20, base: TrainingRule(), flags: .teacher) },
                       "--teacher-learning-rate must be a positive number up to 10, got 20.0")
        XCTAssertEqual(message { try TrainingRule.parse(optimizer: "/no/such/opt.json", schedule: nil, learningRate: nil) },
                       "--optimizer /no/such/opt.json: cannot read the file")
    }

    // MARK: Keras's JSON form

    private func kerasRule(_ text: String) -> String {
        message { try KerasOptimizerConfig.rule(try JSONValue.parse(Array(text.utf8), source: "o.json"), source: "o.json") }
    }

    func testKerasJSONReadsEveryOptimizerAndSchedule() throws {
        let sgd = """
            {"module": "keras.optimizers", "class_name": "SGD", "config": {"name": "SGD", "learning_rate": {"module": "keras.optimizers.schedules",
             "class_name": "CosineDecay", "config": {"initial_learning_rate": 0.0, "decay_steps": 800, "alpha": 0.01, "name": "CosineDecay",
             "warmup_target": 0.05, "warmup_steps": 100}, "registered_name": null}, "weight_decay": 0.0005, "clipnorm": null,
             "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99, "ema_overwrite_frequency": null,
             "loss_scale_factor": null, "gradient_accumulation_steps": null, "momentum": 0.9, "nesterov": true}, "registered_name": null}
            """
        let rule = try KerasOptimizerConfig.rule(try JSONValue.parse(Array(sgd.utf8), source: "s"), source: "s")
        XCTAssertEqual(rule, TrainingRule(optimizer: "sgd:momentum=0.9:nesterov:weight_decay=0.0005",
                                          schedule: "cosine:alpha=0.01:decay=800:unit=steps:warmup=100", learningRate: 0.05))
        let adam = #"{"class_name": "AdamW", "config": {"learning_rate": 0.003, "beta_1": 0.8, "weight_decay": 0.004, "amsgrad": false}}"#
        XCTAssertEqual(try KerasOptimizerConfig.rule(try JSONValue.parse(Array(adam.utf8), source: "a"), source: "a"),
                       TrainingRule(optimizer: "adamw:beta_1=0.8", schedule: "constant", learningRate: 0.003))
        let piecewise = #"{"class_name": "Adam", "config": {"learning_rate": {"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [10, 20], "values": [0.01, 0.001, 0.0001]}}}}"#
        XCTAssertEqual(try KerasOptimizerConfig.rule(try JSONValue.parse(Array(piecewise.utf8), source: "p"), source: "p"),
                       TrainingRule(optimizer: "adam", schedule: "piecewise:boundaries=10/20:unit=steps:values=0.01/0.001/0.0001", learningRate: 0.01))
    }

    func testKerasJSONRefusals() {
        let cases: [(String, String)] = [
            (#"{"config": {}}"#, #"o.json: expected a serialised Keras optimizer, {"class_name": "SGD", "config": {...}}, as keras.optimizers.serialize writes it"#),
            (#"[1]"#, #"o.json: expected a serialised Keras optimizer, {"class_name": "SGD", "config": {...}}, as keras.optimizers.serialize writes it"#),
            (#"{"class_name": "RMSprop", "config": {}}"#, "o.json: optimizer class RMSprop is not supported; expected one of Adam, AdamW, SGD"),
            (#"{"class_name": "SGD", "config": {}, "extra": 1}"#, "o.json: unknown key 'extra' beside class_name and config"),
            (#"{"class_name": "SGD", "config": {"learning_rate": 0.1, "loss_scale_factor": 2}}"#, "o.json: SGD: loss_scale_factor 2 is not supported; expected null"),
            (#"{"class_name": "SGD", "config": {"learning_rate": 0.1, "clipnorm": 1.0, "clipvalue": 2}}"#,
             "o.json 'sgd:clipnorm=1:clipvalue=2': give at most one of clipnorm, global_clipnorm and clipvalue, as Keras"),
            (#"{"class_name": "SGD", "config": {"learning_rate": 0.1, "use_ema": true}}"#, "o.json: SGD: use_ema true is not supported; expected false"),
            (#"{"class_name": "Adam", "config": {"learning_rate": 0.1, "amsgrad": true}}"#, "o.json: Adam: amsgrad true is not supported; expected false"),
            (#"{"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": "high"}}"#, #"o.json: SGD: momentum must be a number, got "high""#),
            (#"{"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 2}}"#, "o.json 'sgd:momentum=2': momentum must be in [0, 1], got 2"),
            (#"{"class_name": "SGD", "config": {"learning_rate": 0.1, "dampening": 0}}"#, "o.json: SGD: key 'dampening' is not supported"),
            (#"{"class_name": "SGD", "config": {}}"#, "o.json: SGD: lacks learning_rate"),
            (#"{"class_name": "SGD", "config": {"learning_rate": -1}}"#, "o.json: learning_rate must be a positive number up to 10, got -1.0"),
            (#"{"class_name": "SGD", "config": {"learning_rate": [1]}}"#, #"o.json: SGD: learning_rate must be a number or a serialised schedule {"class_name": ..., "config": {...}}, got [1]"#),
            (#"{"class_name": "SGD", "config": {"learning_rate": {"class_name": "InverseTimeDecay", "config": {}}}}"#,
             "o.json: SGD learning_rate InverseTimeDecay: is not a supported schedule; expected CosineDecay, ExponentialDecay or PiecewiseConstantDecay"),
            (#"{"class_name": "SGD", "config": {"learning_rate": {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 0, "alpha": 0}}}}"#,
             "o.json: SGD learning_rate CosineDecay: decay_steps must be a positive whole number of steps, got 0"),
            (#"{"class_name": "SGD", "config": {"learning_rate": {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0, "power": 2}}}}"#,
             "o.json: SGD learning_rate CosineDecay: key 'power' is not supported"),
            (#"{"class_name": "SGD", "config": {"learning_rate": {"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [10.5], "values": [0.1, 0.01]}}}}"#,
             "o.json: SGD learning_rate PiecewiseConstantDecay: needs boundaries (whole numbers of steps) and values"),
        ]
        for (text, expected) in cases { XCTAssertEqual(kerasRule(text), expected, text) }
    }

    /// Keras's own files (the fixtures' eight) with bytes deleted, duplicated, swapped or replaced and
    /// values swapped for others: the reader never traps, and every refusal is one line under 400 characters.
    func testFuzzedKerasJSONIsReadOrRefusedInOneLine() throws {
        let url = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-optimizers/trajectories.json")
        let document = try JSONValue.parse(Array(try Data(contentsOf: url)), source: "fixture")
        let seeds = try XCTUnwrap(document["cases"]?.array).compactMap { $0["optimizer"]?.text }
        XCTAssertEqual(seeds.count, 11)
        var rng = SeededGenerator(seed: 0x0971_F022)
        func below(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }
        let pieces = ["null", "true", "-1", "0", "1e400", "0.5", "\"x\"", "[]", "{}", "[1, 2]", ",", ":", "\"", "{", "}", "1e-45"]
        var (accepted, refused) = (0, 0)
        for index in 0..<3000 {
            var bytes = Array(seeds[index % seeds.count].utf8)
            for _ in 0..<(1 + below(3)) where !bytes.isEmpty {
                let i = below(bytes.count)
                switch below(5) {
                case 0: bytes.remove(at: i)
                case 1: bytes.insert(contentsOf: bytes[i..<min(bytes.count, i + 1 + below(8))], at: i)
                case 2: if i + 1 < bytes.count { bytes.swapAt(i, i + 1) }
                case 3: bytes[i] = UInt8(below(128))
                default:  // a value after a ':' replaced
                    if let colon = bytes[i...].firstIndex(of: UInt8(ascii: ":")) {
                        let end = bytes[(colon + 1)...].firstIndex { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "}") } ?? bytes.endIndex
                        bytes.replaceSubrange((colon + 1)..<end, with: Array(pieces[below(pieces.count)].utf8))
                    }
                }
            }
            do {
                let parsed = try JSONValue.parse(bytes, source: "fuzz.json")
                let rule = try KerasOptimizerConfig.rule(parsed, source: "fuzz.json")
                accepted += 1
                _ = try rule.makeOptimizer(length: PhaseLength(stepsPerEpoch: 7, epochs: 3))
            } catch let error as TrainingError {
                refused += 1
                XCTAssertFalse(error.description.contains("\n"), error.description)
                XCTAssertLessThan(error.description.count, 400, error.description)
            } catch let error as ModelError {
                refused += 1
                XCTAssertTrue(error.description.hasPrefix("fuzz.json: "), error.description)
                XCTAssertFalse(error.description.contains("\n"), error.description)
            }
        }
        XCTAssertGreaterThan(accepted, 100)
        XCTAssertGreaterThan(refused, 1000)
        print("fuzzed Keras optimizer files: \(accepted) accepted, \(refused) refused")
    }

    // MARK: State and weight decay

    private func model() throws -> Sequential {
        try ModelDescription(json: Array(#"""
            {"class_name": "Sequential", "config": {"name": "m", "layers": [
             {"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "in"}},
             {"class_name": "Dense", "config": {"name": "frozen", "units": 3, "trainable": false}},
             {"class_name": "BatchNormalization", "config": {"name": "bn"}},
             {"class_name": "Dense", "config": {"name": "out", "units": 2}}]}}
            """#.utf8), source: "model").build(gemm: Fixture.gemm)
    }

    /// Keras hands its optimizer `trainable_variables` only: weight decay shrinks the trained weights
    /// (gamma and beta too, as Keras's) by exactly `w - w * wd * lr` and leaves a frozen layer's and the
    /// moving statistics alone.
    func testWeightDecayTouchesOnlyTrainableWeights() throws {
        let model = try model()
        var rng = SeededGenerator(seed: 5)
        model.parameters.initialize(using: &rng)
        for entry in model.parameters.entries { for i in entry.offset..<entry.offset + entry.count { model.parameters.values.pointer[i] += 0.5 } }
        let before = model.parameters.values.array
        let sgd = SGD(schedule: ConstantLearningRate(0.1), weightDecay: 0.01)
        model.parameters.zeroGradients()
        sgd.update(model.parameters, trainable: model.trainableRanges)
        for entry in model.parameters.entries {
            let trained = !entry.name.hasPrefix("frozen.") && !entry.name.contains("moving_")
            for i in entry.offset..<entry.offset + entry.count {
                let expected = trained ? before[i] - before[i] * 0.01 * 0.1 : before[i]
                XCTAssertEqual(model.parameters.values.pointer[i], expected, entry.name)
            }
        }
        XCTAssertEqual(model.trainableRanges.reduce(0) { $0 + $1.count }, 3 + 3 + 3 * 2 + 2, "bn's gamma and beta, out's kernel and bias")
    }

    /// Every optimizer's slots and step count round-trip through a state file; a state of one optimizer
    /// does not load into another.
    func testStatesCarryEveryOptimizersSlots() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rule-states-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let position = FitPosition(epoch: 1, step: 2, generator: 3, totals: [1, 2], seen: 4, epochs: [], epochSeconds: [])
        let optimizers: [Optimizer] = [SGD(momentum: 0.9, nesterov: true), SGD(), Adam(),
                                       Adam(schedule: ConstantLearningRate(0.01), weightDecay: 0.1, name: "AdamW")]
        for (index, optimizer) in optimizers.enumerated() {
            let model = try model()
            var rng = SeededGenerator(seed: 9)
            model.parameters.initialize(using: &rng)
            for step in 0..<3 {
                for i in 0..<model.parameterCount { model.parameters.gradients.pointer[i] = Float(i % 7) - 3 + Float(step) }
                optimizer.update(model.parameters, trainable: model.trainableRanges)
            }
            // The odd ones also carry a validation split's best epoch and its weights.
            var kept = position
            if index % 2 == 1 { kept.best = ValidationMonitor.BestEpoch(epoch: 1, value: 0.25, wait: 2) }
            let best = index % 2 == 1 ? (0..<model.parameterCount).map { Float($0) / 7 } : nil
            let state = TrainingState(phase: "p\(index)", settings: "s", ranks: 1, position: kept, model: model, optimizer: optimizer,
                                      bestWeights: best)
            let path = try state.save(in: directory, stepsPerEpoch: 10)
            let loaded = try TrainingState.load(path)
            XCTAssertEqual(loaded.position, kept)
            XCTAssertEqual(loaded.bestWeights, best)
            XCTAssertEqual(loaded.parameters.map(\.name), state.parameters.map(\.name), "the best weights are not a parameter")
            XCTAssertEqual(loaded.optimizer, state.optimizer)
            XCTAssertEqual(loaded.optimizer.slots.map(\.name), optimizer.slotNames)
            XCTAssertEqual(loaded.optimizer.iterations, 3)
            let fresh = optimizer is SGD ? SGD(momentum: (optimizer as! SGD).momentum, nesterov: true) as Optimizer : Adam()
            try loaded.restore(into: try self.model(), optimizer: fresh, source: path)
            XCTAssertEqual(fresh.iterations, 3)
            XCTAssertEqual(fresh.slots.map(\.array), optimizer.slots.map(\.array))
            let other: Optimizer = optimizer is SGD ? Adam() : SGD(momentum: 0.5)
            XCTAssertThrowsError(try loaded.restore(into: try self.model(), optimizer: other, source: path)) { error in
                XCTAssertTrue("\(error)".contains("not of this run's \(other.stateName)"), "\(error)")
            }
        }
    }
}
