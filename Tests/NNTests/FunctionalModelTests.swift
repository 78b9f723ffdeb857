import NN
import XCTest

/// Keras functional models read as graphs: the JSON Keras 3 writes (and Keras 2's inbound lists),
/// nested Sequentials expanded, and the models that cannot be trained here refused in one line.
final class FunctionalModelTests: XCTestCase {
    /// Keras 3's `__keras_tensor__` for output 0 of `layer`'s call `call`.
    private func tensor(_ layer: String, call: Int = 0, index: Int = 0) -> String {
        #"{"class_name": "__keras_tensor__", "config": {"shape": null, "dtype": "float32", "keras_history": ["\#(layer)", \#(call), \#(index)]}}"#
    }

    /// `"layer"` or `"layer@call"` as a tensor.
    private func read(_ text: String) -> String {
        let parts = text.split(separator: "@")
        return tensor(String(parts[0]), call: parts.count > 1 ? Int(parts[1])! : 0)
    }

    /// A layer entry; `reads` one tensor per input (a merge's list when more than one), one list per call.
    private func layer(_ className: String, _ name: String, _ options: String = "", calls: [[String]], kwargs: String = "{}") -> String {
        let nodes = calls.map { reads in
            let args = reads.count == 1 ? read(reads[0]) : "[" + reads.map(read).joined(separator: ", ") + "]"
            return #"{"args": [\#(args)], "kwargs": \#(kwargs)}"#
        }
        let config = #"{"name": "\#(name)", "trainable": true, "dtype": "float32"\#(options.isEmpty ? "" : ", " + options)}"#
        return #"{"module": "keras.layers", "class_name": "\#(className)", "config": \#(config), "name": "\#(name)", "inbound_nodes": [\#(nodes.joined(separator: ", "))]}"#
    }

    private func model(_ layers: [String], input: String = #"[["x", 0, 0]]"#, output: String) -> String {
        let inputLayer = #"{"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 4, 1], "dtype": "float32", "sparse": false, "name": "x"}, "name": "x", "inbound_nodes": []}"#
        return #"{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "graph", "trainable": true, "layers": [\#(([inputLayer] + layers).joined(separator: ", "))], "input_layers": \#(input), "output_layers": \#(output)}}"#
    }

    private let conv = #""filters": 2, "kernel_size": [3, 3], "padding": "same""#

    private var residual: String {
        model([layer("Conv2D", "stem", conv, calls: [["x"]]),
               layer("Conv2D", "branch", conv + #", "activation": "relu""#, calls: [["stem"]]),
               layer("Add", "add", calls: [["stem", "branch"]]),
               layer("Flatten", "flatten", calls: [["add"]]),
               layer("Dense", "logits", #""units": 3"#, calls: [["flatten"]])],
              output: #"[["logits", 0, 0]]"#)
    }

    private func description(_ json: String) throws -> ModelDescription { try ModelDescription(json: Array(json.utf8), source: "m.json") }

    private func error(_ json: String) -> String {
        do {
            let model = try description(json)
            _ = try model.build(gemm: testGEMM)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testResidualBlockBuildsAsAGraph() throws {
        let model = try description(residual).build(gemm: testGEMM)
        XCTAssertEqual(model.layerNames, ["stem", "branch", "branch_activation", "add", "flatten", "logits"])
        XCTAssertEqual(model.inputs, [[-1], [0], [1], [0, 2], [3], [4]])
        XCTAssertEqual(model.outputShapes.last, [3])
        XCTAssertEqual(model.parameters.entries.map(\.name), ["stem.kernel", "stem.bias", "branch.kernel", "branch.bias", "logits.kernel", "logits.bias"])
        let plan = try description(residual).plan()
        XCTAssertEqual(plan.parameterCount, model.parameterCount)
        XCTAssertEqual(plan.layers.map(\.inputs), model.inputs)
        XCTAssertEqual(plan.trainingFLOPsPerSample, model.trainingFLOPsPerSample)
    }

    /// Layers listed out of order come out in an order where each follows what it reads; the
    /// output last. Keras 2's `inbound_nodes` lists read the same.
    func testOrderAndKeras2Nodes() throws {
        let keras2 = residual.replacingOccurrences(of: tensor("stem"), with: #"["stem", 0, 0, {}]"#)
            .replacingOccurrences(of: #"{"args": [["stem", 0, 0, {}]], "kwargs": {}}"#, with: #"[["stem", 0, 0, {}]]"#)
        XCTAssertEqual(try description(keras2).build(gemm: testGEMM).inputs, [[-1], [0], [1], [0, 2], [3], [4]])
        let shuffled = model([layer("Dense", "logits", #""units": 3"#, calls: [["flatten"]]),
                              layer("Flatten", "flatten", calls: [["add"]]),
                              layer("Add", "add", calls: [["stem", "stem"]]),
                              layer("Conv2D", "stem", conv, calls: [["x"]])],
                             output: #"["logits", 0, 0]"#)
        let built = try description(shuffled).build(gemm: testGEMM)
        XCTAssertEqual(built.layerNames, ["stem", "add", "flatten", "logits"])
        XCTAssertEqual(built.inputs, [[-1], [0, 0], [1], [2]])
    }

    /// The same chain written as Sequential and as Functional builds the same model: names, shapes, weights.
    func testFunctionalChainIsTheSequentialChain() throws {
        let functional = model([layer("Conv2D", "c", conv, calls: [["x"]]), layer("Flatten", "f", calls: [["c"]]),
                                layer("Dense", "d", #""units": 3"#, calls: [["f"]])], output: #"[["d", 0, 0]]"#)
        let sequential = #"{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 4, 1], "name": "x"}}, {"class_name": "Conv2D", "config": {"name": "c", \#(conv)}}, {"class_name": "Flatten", "config": {"name": "f"}}, {"class_name": "Dense", "config": {"name": "d", "units": 3}}]}}"#
        let (a, b) = (try description(functional).build(gemm: testGEMM), try description(sequential).build(gemm: testGEMM))
        XCTAssertEqual(a.layerNames, b.layerNames)
        XCTAssertEqual(a.outputShapes, b.outputShapes)
        XCTAssertEqual(a.inputs, b.inputs)
        XCTAssertEqual(a.parameters.entries.map(\.name), b.parameters.entries.map(\.name))
    }

    /// A Sequential inside a functional model (an augmentation stack, a block) is its chain.
    func testNestedSequentialIsExpanded() throws {
        let block = #"{"class_name": "Sequential", "config": {"name": "block", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 4, 1], "name": "block_in"}}, {"class_name": "Conv2D", "config": {"name": "inner", \#(conv)}}, {"class_name": "ReLU", "config": {"name": "inner_relu"}}]}, "name": "block", "inbound_nodes": [{"args": [\#(tensor("x"))], "kwargs": {}}]}"#
        let json = model([block, layer("Flatten", "f", calls: [["block"]]), layer("Dense", "d", #""units": 2"#, calls: [["f"]])],
                         output: #"[["d", 0, 0]]"#)
        let built = try description(json).build(gemm: testGEMM)
        XCTAssertEqual(built.layerNames, ["inner", "inner_relu", "f", "d"])
        XCTAssertEqual(built.inputs, [[-1], [0], [1], [2]])
    }

    /// A layer without weights may be called twice (each call its own node).
    func testWeightlessLayerCalledTwice() throws {
        let json = model([layer("Conv2D", "c", conv, calls: [["x"]]), layer("ReLU", "relu", calls: [["c"], ["add"]]),
                          layer("Add", "add", calls: [["c", "relu"]]), layer("Flatten", "f", calls: [["relu@1"]]),
                          layer("Dense", "d", #""units": 2"#, calls: [["f"]])],
                         output: #"[["d", 0, 0]]"#)
        let built = try description(json).build(gemm: testGEMM)
        XCTAssertEqual(built.layerNames, ["c", "relu", "add", "relu", "f", "d"])
        XCTAssertEqual(built.inputs, [[-1], [0], [0, 1], [2], [3], [4]])
    }

    func testModelsThatCannotTrainHereAreOneLineErrors() {
        let cases: [(json: String, message: String)] = [
            (model([layer("Conv2D", "c", conv, calls: [["x"], ["c"]]), layer("Flatten", "f", calls: [["c@1"]]),
                    layer("Dense", "d", #""units": 2"#, calls: [["f"]])], output: #"[["d", 0, 0]]"#),
             "layer 'c': called at more than one place in the graph; its weights would be shared"),
            (model([layer("Dense", "d", #""units": 2"#, calls: [["x"]])], input: #"[["x", 0, 0], ["y", 0, 0]]"#, output: #"[["d", 0, 0]]"#),
             "2 input_layers; only models with one input and one output are supported"),
            (model([layer("Dense", "d", #""units": 2"#, calls: [["x"]]), layer("Dense", "e", #""units": 2"#, calls: [["x"]])],
                   output: #"[["d", 0, 0], ["e", 0, 0]]"#),
             "2 output_layers"),
            (model([layer("Dropout", "drop", #""rate": 0.5"#, calls: [["x"]], kwargs: #"{"training": true}"#),
                    layer("Flatten", "f", calls: [["drop"]])], output: #"[["f", 0, 0]]"#),
             "layer 'drop' (Dropout): is called with training=true; call options are not supported"),
            (model([layer("Add", "a", calls: [["x", "b"]]), layer("Add", "b", calls: [["x", "a"]]), layer("Flatten", "f", calls: [["b"]])],
                   output: #"[["f", 0, 0]]"#),
             "part of a cycle"),
            (model([layer("Flatten", "f", calls: [["nowhere"]])], output: #"[["f", 0, 0]]"#),
             "layer 'f' (Flatten): reads 'nowhere' (call 0), which is not a layer of the model"),
            (model([layer("Flatten", "f", calls: [["x"]]), layer("Flatten", "g", calls: [["x"]])], output: #"[["f", 0, 0]]"#),
             "layer 'g': its output does not lead to the model's output 'f'"),
            (model([layer("Flatten", "f", calls: [["x"]])], output: #"[["g", 0, 0]]"#),
             "output_layers names 'g', which is not a layer of the model"),
            (model([layer("Flatten", "f", calls: [["x"]])], input: #"[["f", 0, 0]]"#, output: #"[["f", 0, 0]]"#),
             "input_layers names 'f', not the InputLayer 'x'"),
            (model([layer("Flatten", "f", calls: [["x"]])]).replacingOccurrences(of: #""keras_history": ["x", 0, 0]"#, with: #""keras_history": ["x", 0, 1]"#),
             "reads output 1 of 'x'; only layers with one output are supported"),
            (model([layer("Flatten", "f", calls: [["x"]]), layer("Flatten", "f", calls: [["x"]])], output: #"[["f", 0, 0]]"#),
             "layer name 'f' appears more than once"),
            (model([layer("Flatten", "f", calls: [])], output: #"[["f", 0, 0]]"#), "has no inbound_nodes"),
            (model([layer("Functional", "inner", calls: [["x"]])], output: #"[["inner", 0, 0]]"#), "a functional model nested inside another"),
            (model([layer("Dense", "d", #""units": 2"#, calls: [["x", "x"]])], output: #"[["d", 0, 0]]"#), "layer 'd': takes one input, but is given 2"),
            (model([layer("Add", "a", calls: [["x", "x"]])]).replacingOccurrences(of: #""output_layers": "#, with: #""outputs": "#), "no config.output_layers"),
        ]
        for (json, message) in cases {
            let text = error(json)
            XCTAssertTrue(text.contains(message), "expected '\(message)', got: \(text)")
            XCTAssertFalse(text.contains("\n"), text)
        }
    }

    private func model(_ layers: [String]) -> String { model(layers, output: #"[["f", 0, 0]]"#) }

    /// The residual block with Keras operations on its way out, as `to_json()` writes them (module keras.src.ops.numpy,
    /// two positional arguments): the branch times 0.5, added to the stem, then 1 - that.
    private var residualWithOperations: String {
        func operation(_ className: String, _ name: String, _ args: String) -> String {
            #"{"module": "keras.src.ops.numpy", "class_name": "\#(className)", "config": {"name": "\#(name)"}, "name": "\#(name)", "inbound_nodes": [{"args": [\#(args)], "kwargs": {}}]}"#
        }
        return model([layer("Conv2D", "stem", conv, calls: [["x"]]),
                      layer("Conv2D", "branch", conv, calls: [["stem"]]),
                      operation("Multiply", "half", "\(tensor("branch")), 0.5"),
                      operation("Add", "sum", "\(tensor("stem")), \(tensor("half"))"),
                      operation("Subtract", "flip", "1.0, \(tensor("sum"))"),
                      layer("Flatten", "flatten", calls: [["flip"]]),
                      layer("Dense", "logits", #""units": 3"#, calls: [["flatten"]])],
                     output: #"[["logits", 0, 0]]"#)
    }

    func testOperationsBuildInTheGraph() throws {
        let model = try description(residualWithOperations).build(gemm: testGEMM)
        XCTAssertEqual(model.layerNames, ["stem", "branch", "half", "sum", "flip", "flatten", "logits"])
        XCTAssertEqual(model.inputs, [[-1], [0], [1], [0, 2], [3], [4], [5]])
        XCTAssertEqual(model.layers.map(\.kind)[2...4], ["number_operation", "add", "number_operation"])
    }

    /// Mutated functional JSON (bytes dropped, swapped, repeated) is refused with an error or
    /// builds; it never traps or hangs. Two seeds: the residual block, and the same with Keras operations.
    func testFuzzedFunctionalJSONNeverTraps() {
        for (seed, json) in [(UInt64(77), residual), (78, residualWithOperations)] {
            fuzz(json, seed: seed)
        }
    }

    private func fuzz(_ json: String, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let original = Array(json.utf8)
        var outcomes = (built: 0, refused: 0)
        for _ in 0..<1500 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes.remove(at: i)
                case 1:
                    let alphabet = Array(#"[]{},:"0123x"#.utf8)
                    bytes[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 2: bytes.insert(bytes[i], at: i)
                default: bytes.swapAt(i, Int(rng.next() % UInt64(bytes.count)))
                }
            }
            do {
                _ = try ModelDescription(json: bytes, source: "fuzz").plan()
                outcomes.built += 1
            } catch {
                outcomes.refused += 1
            }
        }
        XCTAssertGreaterThan(outcomes.refused, 500, "seed \(seed)")
        XCTAssertGreaterThan(outcomes.built, 10, "seed \(seed)")
        print("fuzzed functional JSON, seed \(seed): \(outcomes.built) built, \(outcomes.refused) refused")
    }

    /// A Rescaling reading the input is given pixels 0-255; a second reader of the input would get 0-1.
    func testARescalingMustBeTheInputsOnlyReader() throws {
        let (scale, conv) = (#""scale": 0.00392156862745098, "offset": 0.0"#, #""filters": 1, "kernel_size": [3, 3], "padding": "same""#)
        let mixed = model([layer("Rescaling", "scale", scale, calls: [["x"]]),
                           layer("Conv2D", "side", conv, calls: [["x"]]),
                           layer("Add", "add", calls: [["scale", "side"]]),
                           layer("Flatten", "flatten", calls: [["add"]])], output: #"[["flatten", 0, 0]]"#)
        XCTAssertTrue(error(mixed).contains("layer 'side' (Conv2D): reads the model's input beside 'scale' (Rescaling), which is given the raw pixels"), error(mixed))
        let alone = model([layer("Rescaling", "scale", scale, calls: [["x"]]),
                           layer("Conv2D", "side", conv, calls: [["scale"]]),
                           layer("Add", "add", calls: [["scale", "side"]]),
                           layer("Flatten", "flatten", calls: [["add"]])], output: #"[["flatten", 0, 0]]"#)
        XCTAssertEqual(error(alone), "no error")
    }

    /// A merge that reads the input beside a Rescaling's output would get 0-1 where Keras gives 0-255.
    func testAMergeReadingTheInputBesideARescalingIsRefused() {
        let (scale, conv) = (#""scale": 0.00392156862745098, "offset": 0.0"#, #""filters": 1, "kernel_size": [3, 3], "padding": "same""#)
        let json = model([layer("Rescaling", "scale", scale, calls: [["x"]]),
                          layer("Conv2D", "c", conv, calls: [["scale"]]),
                          layer("Concatenate", "join", calls: [["x", "c"]]),
                          layer("Flatten", "flatten", calls: [["join"]])], output: #"[["flatten", 0, 0]]"#)
        XCTAssertTrue(error(json).contains("layer 'join' (Concatenate): reads the model's input beside 'scale' (Rescaling), which is given the raw pixels"), error(json))
    }

    /// Keras trains nothing inside a frozen container: an inner layer marked trainable is refused, not trained.
    func testATrainableLayerInsideAFrozenSequentialIsRefused() {
        let block = #"{"class_name": "Sequential", "config": {"name": "block", "trainable": false, "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 4, 1], "name": "block_in"}}, {"class_name": "Conv2D", "config": {"name": "inner", "trainable": true, \#(conv)}}]}, "name": "block", "inbound_nodes": [{"args": [\#(tensor("x"))], "kwargs": {}}]}"#
        let json = model([block, layer("Flatten", "f", calls: [["block"]])], output: #"[["f", 0, 0]]"#)
        XCTAssertTrue(error(json).contains("layer 'inner' (Conv2D): is trainable inside the frozen Sequential 'block'"), error(json))
        let frozen = json.replacingOccurrences(of: #""name": "inner", "trainable": true"#, with: #""name": "inner", "trainable": false"#)
        XCTAssertEqual(error(frozen), "no error")
    }
}
