import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// Seeded fuzzing of the Keras model JSON reader and builder: every input builds or throws a
/// one-line `ModelError`. Most inputs are the presets with one layer option, class name or
/// structure changed, so they reach the per-layer checks and the shape chain.
final class ModelDescriptionFuzzTests: XCTestCase {
    /// The stage a message belongs to, first match wins; a model that builds is "built".
    static let rules: [(stage: String, words: [String])] = [
        ("json", ["not valid JSON"]),
        ("structure", ["no class_name", "only Sequential", "no config.layers", "has no class_name", "no input shape",
                       "has no layers", "more than once", "input shape"]),
        ("layer type", ["unknown layer type", "InputLayer is supported only"]),
        ("option", ["option "]),
        ("softmax", ["softmax is supported only"]),
        ("shape chain", ["does not fit", "needs a flat", "needs an [height", "needs a positive"]),
    ]

    static let values: [Any] = [NSNull(), true, false, -1, 0, 1, 3, 2.5, 1e30, "same", "valid", "relu", "softmax", "x",
                                [Any](), [0, 0], [3, 3], [3, 3, 3], [2, "a"], [String: Any](), ["class_name": "Zeros"],
                                ["class_name": "HeNormal"], ["name": "float16"]]
    static let classNames = ["Conv2D", "Dense", "Flatten", "LeakyReLU", "MaxPooling2D", "InputLayer", "LSTM", "", "Dropout"]

    func testFuzzModelDescriptions() throws {
        var rng = FuzzRandom(seed: 0x0DE1_0001)
        var mutator = Mutator(seed: 0x0DE1_0002)
        let presets = Architecture.allCases.flatMap { preset in ModelRole.allCases.map { Array(preset.description($0).json.utf8) } }
        var inputs: [[UInt8]] = []
        for _ in 0..<500 { inputs.append(try Self.structureAware(rng.pick(presets), &rng)) }
        for _ in 0..<150 { inputs.append(mutator.mutate(rng.pick(presets), donors: presets, maxSteps: 2)) }

        var tally: [String: Int] = [:]
        for bytes in inputs {
            do {
                _ = try ModelDescription(json: bytes, source: "fuzz.json").build(gemm: OpenBLASGEMM())
                tally["built", default: 0] += 1
            } catch let error as ModelError {
                let message = error.description
                XCTAssertFalse(message.isEmpty || message.contains("\n"), "one line: \(message)")
                let stage = Self.rules.first { rule in rule.words.contains { message.contains($0) } }?.stage
                XCTAssertNotNil(stage, "unclassified error: \(message)")
                tally[stage ?? "other", default: 0] += 1
            }
        }
        print("model JSON fuzz: \(inputs.count) inputs; " + tally.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        XCTAssertEqual(tally.values.reduce(0, +), 650)
        for stage in ["json", "structure", "layer type", "option", "shape chain", "built"] {
            XCTAssertGreaterThan(tally[stage, default: 0], 5, "stage \(stage) barely reached: \(tally)")
        }
    }

    /// A preset with one change: an option's value replaced or removed, a class name changed,
    /// a layer dropped, repeated or moved, or the input shape changed.
    static func structureAware(_ json: [UInt8], _ rng: inout FuzzRandom) throws -> [UInt8] {
        var document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        var config = try XCTUnwrap(document["config"] as? [String: Any])
        var layers = try XCTUnwrap(config["layers"] as? [[String: Any]])
        let index = rng.below(layers.count)
        var layer = layers[index]
        var options = layer["config"] as? [String: Any] ?? [:]
        switch rng.below(8) {
        case 0, 1, 2:
            let key = rng.pick(Array(options.keys.sorted()) + ["filters", "units", "kernel_size", "strides", "padding", "activation"])
            options[key] = rng.pick(values)
        case 3:
            if let key = options.keys.sorted().randomElement(using: &rng) { options[key] = nil }
        case 4:
            layer["class_name"] = rng.pick(classNames)
        case 5:
            let moved = layers.remove(at: index)
            layers.insert(moved, at: rng.below(layers.count + 1))
            options = layers[index]["config"] as? [String: Any] ?? [:]
            layer = layers[index]
        case 6:
            layers.insert(layer, at: rng.below(layers.count + 1))
            layer = layers[index]
        default:
            layers[0]["config"] = ["batch_shape": [NSNull(), rng.pick([0, 1, 3, 28, 100]), 28, rng.pick([1, 3])], "name": "input_layer"]
            layer = layers[index]
            options = layer["config"] as? [String: Any] ?? [:]
        }
        layer["config"] = options
        layers[index] = layer
        config["layers"] = layers
        document["config"] = config
        return Array(try JSONSerialization.data(withJSONObject: document))
    }
}
