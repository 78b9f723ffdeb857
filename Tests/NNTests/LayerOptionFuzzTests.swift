import Foundation
import NN
import TestSupport
import XCTest

/// Seeded fuzzing of the check that every option in a Keras layer config is one its builder reads
/// (`LayerConfig.checkEveryOptionKnown`). Seeds are the Keras-written fixtures and the presets; each
/// input has one option key misspelt, added, copied from another layer type, written twice, removed,
/// or the keys reordered. A changed key is refused naming the layer and the key; a key written twice
/// is refused as such; a removal builds (or fails for another reason); a reordering builds the same model.
final class LayerOptionFuzzTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// What `LayerConfig.checkCommonOptions` reads on every layer: options of every class.
    static let commonKeys: Set<String> = [
        "trainable", "data_format", "dtype", "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint", "beta_regularizer", "gamma_regularizer", "beta_constraint",
        "gamma_constraint", "lora_rank", "quantization_config",
    ]
    static let unknownKeys = ["padd1ng", "extra", "units_", "Kernel_size", "", "activation ", "input_shape", "dilation",
                              "kernel_size\u{0}", "groupz", "use_bias2", "momentum_", "ÿ"]
    static let values = ["null", "true", "false", "0", "1", "2.5", "\"same\"", "\"valid\"", "[1, 1]", "[3, 3]", "{}", "[]"]
    static let typoCharacters = Array("abcdefghijklmnopqrstuvwxyz_019 -É")

    /// What an input must do.
    enum Expect {
        /// Refused as "option KEY is not an option" of that layer (or, for a misspelt key that the layer
        /// needs, with the message the removal alone gives).
        case unknown(layer: Int, key: String, orMessage: String?)
        case duplicate(key: String)
        case builds(sameModel: Bool)
        case removed
        case unsure
    }

    func testFuzzLayerOptionKeys() throws {
        let start = Date()
        let seeds = try Self.seedPaths().map { path -> (name: String, document: KerasDocument, model: String) in
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let document = try KerasDocument(bytes)
            // The rewritten text builds the same model as the file.
            let model = try Self.signature(ModelDescription(json: bytes, source: path).build(gemm: OpenBLASGEMM()))
            XCTAssertEqual(try Self.signature(ModelDescription(json: document.bytes, source: path).build(gemm: OpenBLASGEMM())), model, path)
            return ((path as NSString).lastPathComponent, document, model)
        }
        XCTAssertGreaterThanOrEqual(seeds.count, 6)
        // The options of each class: those the seeds hold, and the common ones.
        var options: [String: Set<String>] = [:]
        for seed in seeds {
            for layer in seed.document.layers { options[layer.className, default: Self.commonKeys].formUnion(layer.options.map(\.key)) }
        }

        var rng = FuzzRandom(seed: 0x0971_0001)
        var stages = FuzzStages()
        var problems: [String] = []
        var removalMessages: [String: String?] = [:]  // what removing a key alone gives (nil: builds)

        for index in 0..<600 {
            let s = rng.below(seeds.count)
            var document = seeds[s].document
            let l = rng.below(document.layers.count)
            let layer = document.layers[l]
            let known = options[layer.className]!
            var kind: String
            var expect: Expect
            switch rng.below(20) {
            case 0..<5:
                // One key misspelt: a character dropped, inserted or swapped with its neighbour.
                kind = "typo"
                let k = rng.pick(Array(layer.options.indices.filter { layer.options[$0].key != "name" }))
                let old = layer.options[k].key
                let new = Self.typo(old, &rng)
                document.layers[l].options[k].key = new
                if layer.options.contains(where: { $0.key == new }) {
                    expect = .duplicate(key: new)
                } else if known.contains(new) {
                    expect = .unsure
                } else {
                    let removal = removalMessage(s, l, old, seeds[s].document, &removalMessages)
                    expect = .unknown(layer: l, key: new, orMessage: removal)
                }
            case 5..<8:
                kind = "unknown key"
                let key = rng.pick(Self.unknownKeys.filter { key in !layer.options.contains { $0.key == key } })
                document.layers[l].options.insert((key, rng.pick(Self.values)), at: rng.below(layer.options.count + 1))
                expect = .unknown(layer: l, key: key, orMessage: nil)
            case 8..<12:
                // A key (and its value) copied from a layer of another class that has it to one whose class does not.
                kind = "moved key"
                let foreign = document.layers.flatMap(\.options).filter { !known.contains($0.key) }
                guard !foreign.isEmpty else { fallthrough }
                let option = rng.pick(foreign)
                document.layers[l].options.insert(option, at: rng.below(layer.options.count + 1))
                expect = .unknown(layer: l, key: option.key, orMessage: nil)
            case 12..<15:
                // A key written twice in one config, with the same or another value.
                kind = "duplicate key"
                var option = rng.pick(layer.options)
                if rng.chance(0.5) { option.text = rng.pick(Self.values) }
                document.layers[l].options.insert(option, at: rng.below(layer.options.count + 1))
                expect = .duplicate(key: option.key)
            case 15..<18:
                kind = "removed key"
                let k = rng.pick(Array(layer.options.indices.filter { layer.options[$0].key != "name" }))
                document.layers[l].options.remove(at: k)
                expect = .removed
            default:
                kind = "reordered keys"
                for i in document.layers.indices { document.layers[i].options.shuffle(using: &rng) }
                expect = .builds(sameModel: true)
            }

            let source = "fuzz-\(index).json"
            let label = "input \(index) (\(kind) in \(seeds[s].name) layer '\(layer.name)')"
            let outcome: String
            do {
                let model = try ModelDescription(json: document.bytes, source: source).build(gemm: OpenBLASGEMM())
                outcome = "built"
                switch expect {
                case .unknown(_, let key, _): problems.append("\(label): built, but option \(key.debugDescription) is not one of \(layer.className)")
                case .duplicate(let key): problems.append("\(label): built with key \(key.debugDescription) twice")
                case .builds(let same):
                    if same, Self.signature(model) != seeds[s].model { problems.append("\(label): built another model") }
                case .removed, .unsure: break
                }
            } catch let error as ModelError {
                let message = error.description
                outcome = FuzzStages.stage(of: message, [("refused: unknown option", ["is not an option of"]),
                                                         ("refused: appears twice", ["appears twice"]),
                                                         ("refused: missing option", ["is missing"])],
                                           otherwise: "refused: other")
                if message.contains("\n") || !(message.contains(source) || message.contains("layer '")) {
                    problems.append("\(label): not one line naming the file or layer: \(message)")
                }
                switch expect {
                case .unknown(let at, let key, let removal):
                    let layer = document.layers[at]
                    let wanted = "layer '\(layer.name)' (\(layer.className)): option \(key) is not an option of \(layer.className) that swift-distill knows"
                    if !message.hasPrefix(wanted) && message != removal {
                        problems.append("\(label): expected \"\(wanted)...\"\(removal.map { " or \"\($0)\"" } ?? ""), got: \(message)")
                    }
                case .duplicate(let key):
                    if !message.hasPrefix("\(source): key config.layers.config.\(key) appears twice") {
                        problems.append("\(label): expected key \(key.debugDescription) refused as appearing twice, got: \(message)")
                    }
                case .builds: problems.append("\(label): a valid model was refused: \(message)")
                case .removed:
                    if message.contains("is not an option of") { problems.append("\(label): a removal was refused as an unknown option: \(message)") }
                case .unsure: break
                }
            } catch {
                outcome = "wrong error type"
                problems.append("\(label): \(type(of: error)) thrown: \(error)")
            }
            stages.record("\(kind): \(outcome)\(Self.isUnsure(expect) ? " (key is a real option)" : "")")
        }

        print(stages.report("layer option keys fuzz") + String(format: "\n  time: %.2f s", Date().timeIntervalSince(start)))
        for problem in problems.prefix(10) { XCTFail(problem) }
        XCTAssertEqual(problems.count, 0, "\(problems.count) problems")
        XCTAssertGreaterThanOrEqual(stages.total, 500)
        let deep = stages.counts.keys.filter { $0.hasSuffix("refused: unknown option") }
        XCTAssertGreaterThanOrEqual(stages.fraction(deep), 0.3, "too few inputs reached the option-key check")
        XCTAssertGreaterThan(stages.count(["duplicate key: refused: appears twice"]), 20)
        XCTAssertGreaterThan(stages.count(["reordered keys: built", "removed key: built"]), 40)
    }

    /// The message the seed gives with `key` removed from layer `l`, or nil if it then builds.
    func removalMessage(_ s: Int, _ l: Int, _ key: String, _ seed: KerasDocument, _ cache: inout [String: String?]) -> String? {
        if let known = cache["\(s)/\(l)/\(key)"] { return known }
        var document = seed
        document.layers[l].options.removeAll { $0.key == key }
        let message: String?
        do {
            _ = try ModelDescription(json: document.bytes, source: "removal.json").build(gemm: OpenBLASGEMM())
            message = nil
        } catch {
            message = "\(error)"
        }
        cache["\(s)/\(l)/\(key)"] = message
        return message
    }

    static func isUnsure(_ expect: Expect) -> Bool { if case .unsure = expect { return true } else { return false } }

    /// `key` with one character dropped, inserted or swapped with the next (always a different key).
    static func typo(_ key: String, _ rng: inout FuzzRandom) -> String {
        var characters = Array(key)
        switch rng.below(3) {
        case 0 where characters.count > 1:
            characters.remove(at: rng.below(characters.count))
        case 1 where characters.count > 1:
            let i = rng.below(characters.count - 1)
            guard characters[i] != characters[i + 1] else { fallthrough }
            characters.swapAt(i, i + 1)
        default:
            characters.insert(rng.pick(typoCharacters), at: rng.below(characters.count + 1))
        }
        return String(characters)
    }

    /// Layer names, output shapes and parameter names and shapes: what "the same model" means here.
    static func signature(_ model: Sequential) -> String {
        "\(model.layerNames) \(model.outputShapes) \(model.parameters.entries.map { "\($0.name)\($0.shape)" })"
    }

    /// The fixtures Keras wrote (the Sequential ones) and the presets.
    static func seedPaths() throws -> [String] {
        let presets = root.appendingPathComponent("Sources/Distill/Presets").path
        let names = try FileManager.default.contentsOfDirectory(atPath: presets).filter { $0.hasSuffix(".json") }.sorted()
        return ["every-layer-teacher.json", "every-layer-student.json"].map {
            root.appendingPathComponent("Tests/Fixtures/keras-roundtrip/\($0)").path
        } + ["sequential-new-layers", "more-layers"].map { root.appendingPathComponent("Tests/Fixtures/keras-graph/\($0).json").path } + names.map { "\(presets)/\($0)" }
    }
}

/// A Keras model JSON (Sequential or functional) with each layer's config as an ordered list of keys and value texts
/// (as written), so keys can be renamed, repeated or reordered and the document written back.
struct KerasDocument {
    struct Layer {
        var className: String
        var name: String
        var members: [(key: String, text: String)]   // of the layer entry, but class_name and config
        var options: [(key: String, text: String)]   // of its config
    }

    var top: [(key: String, text: String)]       // of the document, but config
    var config: [(key: String, text: String)]    // of config, but layers
    var layers: [Layer]

    init(_ bytes: [UInt8]) throws {
        let document = try Self.members(bytes)
        let config = try Self.members(Array(try XCTUnwrap(document.first { $0.key == "config" }).text.utf8))
        let layers = try Self.elements(Array(try XCTUnwrap(config.first { $0.key == "layers" }).text.utf8))
        top = document.filter { $0.key != "config" }
        self.config = config.filter { $0.key != "layers" }
        self.layers = try layers.map { text in
            let entry = try Self.members(Array(text.utf8))
            let options = try Self.members(Array(try XCTUnwrap(entry.first { $0.key == "config" }).text.utf8))
            let className = try XCTUnwrap(entry.first { $0.key == "class_name" }).text
            let name = try XCTUnwrap(options.first { $0.key == "name" }).text
            return Layer(className: String(className.dropFirst().dropLast()), name: String(name.dropFirst().dropLast()),
                         members: entry.filter { $0.key != "class_name" && $0.key != "config" }, options: options)
        }
    }

    var bytes: [UInt8] {
        func object(_ members: [(key: String, text: String)]) -> String {
            "{" + members.map { "\(Self.quoted($0.key)): \($0.text)" }.joined(separator: ", ") + "}"
        }
        let layerTexts = layers.map { layer in
            object([("class_name", Self.quoted(layer.className))] + layer.members + [("config", object(layer.options))])
        }
        let config = object(self.config + [("layers", "[" + layerTexts.joined(separator: ", ") + "]")])
        return Array(object(top + [("config", config)]).utf8)
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    // A scanner for JSON that is known to be valid: it only finds where values end.

    static let space: Set<UInt8> = [0x20, 0x0A, 0x0D, 0x09]

    /// The members of the object `text` holds, keys decoded (the seeds' keys need no escapes) and values as written.
    static func members(_ text: [UInt8]) throws -> [(key: String, text: String)] {
        var i = try XCTUnwrap(text.firstIndex(of: UInt8(ascii: "{"))) + 1
        var result: [(key: String, text: String)] = []
        while true {
            while space.contains(text[i]) || text[i] == UInt8(ascii: ",") { i += 1 }
            if text[i] == UInt8(ascii: "}") { return result }
            let keyEnd = end(of: text, at: i)
            let key = String(decoding: text[(i + 1)..<(keyEnd - 1)], as: UTF8.self)
            XCTAssertFalse(key.contains("\\"), "a key with escapes: \(key)")
            i = keyEnd
            while space.contains(text[i]) || text[i] == UInt8(ascii: ":") { i += 1 }
            let valueEnd = end(of: text, at: i)
            result.append((key, String(decoding: text[i..<valueEnd], as: UTF8.self)))
            i = valueEnd
        }
    }

    /// The elements of the array `text` holds, as written.
    static func elements(_ text: [UInt8]) throws -> [String] {
        var i = try XCTUnwrap(text.firstIndex(of: UInt8(ascii: "["))) + 1
        var result: [String] = []
        while true {
            while space.contains(text[i]) || text[i] == UInt8(ascii: ",") { i += 1 }
            if text[i] == UInt8(ascii: "]") { return result }
            let valueEnd = end(of: text, at: i)
            result.append(String(decoding: text[i..<valueEnd], as: UTF8.self))
            i = valueEnd
        }
    }

    /// The index after the value that starts at `start`.
    static func end(of text: [UInt8], at start: Int) -> Int {
        var i = start
        var depth = 0
        repeat {
            switch text[i] {
            case UInt8(ascii: "\""):
                i += 1
                while text[i] != UInt8(ascii: "\"") { i += text[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                i += 1
            default:
                if depth == 0 {
                    // A number, true, false or null.
                    while i < text.count, !space.contains(text[i]), !",}]".utf8.contains(text[i]) { i += 1 }
                    return i
                }
                i += 1
            }
        } while depth > 0
        return i
    }
}
