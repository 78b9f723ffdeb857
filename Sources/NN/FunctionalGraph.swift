/// A Keras functional model's `config` as a graph of layer configs: `config.layers[]` with each
/// layer's `inbound_nodes` (Keras 3: `{"args": [tensor or [tensors]], "kwargs": {}}`, a tensor being
/// `{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, index]}}`; Keras 2:
/// `[[layer, node, index, kwargs], ...]`), `input_layers` and `output_layers`. One image input and
/// one output. A `Sequential` inside is expanded into its chain. A layer called at several places
/// appears once per call (`LayerGraph` refuses it if it has weights, which would be shared).
/// The layers come out in a stable topological order, the output last.
struct FunctionalGraph {
    var inputShape: [Int]
    var layers: [LayerConfig] = []
    var inbound: [[Int]] = []

    /// A call of a layer before ordering: its config and the (layer name, call) pairs it reads.
    private struct Call {
        let config: LayerConfig
        let reads: [(layer: String, call: Int)]
    }

    init(_ config: JSONValue, source: String) throws {
        var calls: [Call] = []
        var callIndex: [String: [Int]] = [:]   // a layer's name -> its calls' positions in `calls`
        var inputName: String?, inputShape: [Int]?
        for (index, entry) in (config["layers"]?.array ?? []).enumerated() {
            guard let className = entry["class_name"]?.string, let options = entry["config"]?.object else {
                throw ModelError("\(source): layer \(index) has no class_name or config")
            }
            var layer = LayerConfig(className: className, name: options["name"]?.string ?? entry["name"]?.string ?? "layer_\(index)",
                                    options: options)
            guard callIndex[layer.name] == nil, layer.name != inputName else {
                throw ModelError("\(source): layer name '\(layer.name)' appears more than once")
            }
            if className == "InputLayer" {
                guard inputName == nil else { throw layer.error("a second input; only models with one image input are supported") }
                (inputName, inputShape) = (layer.name, try ModelDescription.inputLayerShape(layer, source: source))
                continue
            }
            let nodes: [[(layer: String, call: Int)]]
            if let module = entry["module"]?.string, module.hasPrefix("keras.src.ops") {
                (layer, nodes) = try Self.operationCall(entry, layer: layer, options: options, module: module)
            } else {
                nodes = try Self.inboundNodes(entry, layer: layer)
            }
            guard !nodes.isEmpty else { throw layer.error("has no inbound_nodes: it is not called in the model") }
            if className == "Sequential" {
                // Expanded: its first layer reads the Sequential's input, the rest a chain; its name stands for its last layer.
                guard nodes.count == 1 else { throw layer.error("a nested Sequential called at \(nodes.count) places; its weights would be shared") }
                let chain = try ModelDescription.sequentialLayers(JSONValue.object(options), source: source).layers
                guard !chain.isEmpty else { throw layer.error("a nested Sequential with no layers") }
                for (position, inner) in chain.enumerated() {
                    try ModelDescription.checkKnownType(inner)
                    // Keras freezes everything inside a frozen container, whatever the inner flags say.
                    guard !layer.isFrozen || inner.isFrozen else {
                        throw inner.error("is trainable inside the frozen Sequential '\(layer.name)', which Keras would not train; set its trainable to false too")
                    }
                    guard callIndex[inner.name] == nil else { throw ModelError("\(source): layer name '\(inner.name)' appears more than once") }
                    callIndex[inner.name] = [calls.count]
                    calls.append(Call(config: inner, reads: position == 0 ? nodes[0] : [(chain[position - 1].name, 0)]))
                }
                callIndex[layer.name] = callIndex[chain.last!.name]
                continue
            }
            if className == "Functional" || className == "Model" {
                throw layer.error("a functional model nested inside another is not supported; flatten it into one model")
            }
            try ModelDescription.checkKnownType(layer)
            callIndex[layer.name] = nodes.indices.map { calls.count + $0 }
            calls += nodes.map { Call(config: layer, reads: $0) }
        }
        guard let inputName, let inputShape else { throw ModelError("\(source): no InputLayer; a functional model starts from keras.Input(shape=...)") }
        self.inputShape = inputShape
        try Self.checkEnds(config, input: inputName, source: source)
        let output = try Self.endpoints(config["output_layers"], "output_layers", source: source)[0]
        guard let outputCall = callIndex[output.layer]?[safe: output.call] else {
            throw ModelError("\(source): output_layers names '\(output.layer)', which is not a layer of the model")
        }
        // Each call's inputs as positions in `calls` (-1: the model's input).
        let reads: [[Int]] = try calls.map { call in
            try call.reads.map { read in
                if read.layer == inputName { return -1 }
                guard let position = callIndex[read.layer]?[safe: read.call] else {
                    throw call.config.error("reads '\(read.layer)' (call \(read.call)), which is not a layer of the model")
                }
                return position
            }
        }
        let order = try Self.topologicalOrder(reads, output: outputCall, names: calls.map(\.config.name))
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        layers = order.map { calls[$0].config }
        inbound = order.map { reads[$0].map { $0 < 0 ? -1 : position[$0]! } }
    }

    /// The (layer, call) pairs each call of `entry` reads, one list per call; refuses call options
    /// (`checkCallOptions`) and tensors other than a layer's first output.
    private static func inboundNodes(_ entry: JSONValue, layer: LayerConfig) throws -> [[(layer: String, call: Int)]] {
        guard let nodes = entry["inbound_nodes"]?.array else { return [] }
        return try nodes.map { node in
            let tensors: [JSONValue]
            if let args = node["args"]?.array {                       // Keras 3
                try checkCallOptions(node["kwargs"], layer: layer)
                guard args.count == 1 else { throw layer.error("is called with \(args.count) positional arguments; expected its input tensor(s)") }
                tensors = args[0].array ?? [args[0]]
            } else if let list = node.array {                          // Keras 2
                tensors = list
            } else {
                throw layer.error("inbound node \(node.text.prefix(80)) is neither Keras 3's {args, kwargs} nor Keras 2's list")
            }
            guard !tensors.isEmpty else { throw layer.error("an inbound node with no input tensor") }
            return try tensors.map { try history($0, layer: layer) }
        }
    }

    /// A Keras 3 operation recorded as a layer (`module` keras.src.ops.*): Python arithmetic on Keras tensors, called
    /// once with two positional arguments. Two tensors added, multiplied or subtracted are the `Add`, `Multiply` or
    /// `Subtract` layer (of the same shapes, or for the first two a [1, 1, C] broadcast); a tensor and a number become
    /// a `NumberOperation` named after Keras's function (`keras.ops.add`), with the number and which comes first among
    /// its options.
    private static func operationCall(_ entry: JSONValue, layer: LayerConfig, options: [String: JSONValue],
                                      module: String) throws -> (LayerConfig, [[(layer: String, call: Int)]]) {
        let operation = NumberOperation.Operation.allCases.first { $0.recordedClassName == layer.className }
        guard module == "keras.src.ops.numpy", let operation else {
            throw layer.error("is a Keras operation (\(module)); of the operations only add, subtract, multiply and true_divide are supported")
        }
        guard let nodes = entry["inbound_nodes"]?.array, nodes.count == 1, let args = nodes[0]["args"]?.array, args.count == 2 else {
            throw layer.error("is a Keras operation; expected one call with two positional arguments")
        }
        try checkCallOptions(nodes[0]["kwargs"], layer: layer)
        let isTensor = args.map { $0["class_name"]?.string == "__keras_tensor__" }
        if isTensor == [true, true] {
            guard operation != .trueDivide else {
                throw layer.error("is a Keras operation on two tensors; of those only add, subtract and multiply are supported")
            }
            return (layer, [try args.map { try history($0, layer: layer) }])
        }
        guard let position = isTensor.firstIndex(of: true), case .number = args[1 - position] else {
            throw layer.error("is a Keras operation on \(args[0].text.prefix(60)) and \(args[1].text.prefix(60)); expected a tensor and a number")
        }
        var numbered = options
        (numbered["number"], numbered["number_first"]) = (args[1 - position], .bool(position == 1))
        return (LayerConfig(className: "keras.ops.\(operation.rawValue)", name: layer.name, options: numbered), [[try history(args[position], layer: layer)]])
    }

    /// A call's `kwargs`: Keras records `training: false` on every Dropout and `mask: null` on every
    /// BatchNormalization; both change nothing (fit, evaluate and predict pass their own mode). Any
    /// other option, `training: true` (Monte-Carlo dropout, batch statistics in inference) among
    /// them, is refused.
    private static func checkCallOptions(_ kwargs: JSONValue?, layer: LayerConfig) throws {
        guard let options = kwargs?.object else { return }
        for key in options.keys.sorted() where !(options[key] == .null || (key == "training" && options[key] == .bool(false))) {
            throw layer.error("is called with \(key)=\(options[key]!.text); call options are not supported")
        }
    }

    /// `[layer, node, tensor]` of one input tensor (Keras 3's `keras_history`, or Keras 2's list entry).
    private static func history(_ tensor: JSONValue, layer: LayerConfig) throws -> (layer: String, call: Int) {
        let items = tensor["config"]?["keras_history"]?.array ?? tensor.array
        try checkCallOptions(tensor.array?[safe: 3], layer: layer)
        guard let items, items.count >= 3, let name = items[0].string, let call = items[1].int, let index = items[2].int, call >= 0 else {
            throw layer.error("input tensor \(tensor.text.prefix(80)) has no [layer, node, index] history")
        }
        guard index == 0 else { throw layer.error("reads output \(index) of '\(name)'; only layers with one output are supported") }
        return (name, call)
    }

    /// `input_layers` must be the one InputLayer.
    private static func checkEnds(_ config: JSONValue, input: String, source: String) throws {
        let inputs = try endpoints(config["input_layers"], "input_layers", source: source)
        guard inputs[0].layer == input else {
            throw ModelError("\(source): input_layers names '\(inputs[0].layer)', not the InputLayer '\(input)'")
        }
    }

    /// `[[layer, node, index]]` or `[layer, node, index]` (one endpoint; several are refused).
    private static func endpoints(_ value: JSONValue?, _ key: String, source: String) throws -> [(layer: String, call: Int)] {
        guard let items = value?.array, !items.isEmpty else { throw ModelError("\(source): no config.\(key)") }
        let list = items[0].array != nil ? items : [JSONValue.array(items)]
        guard list.count == 1 else { throw ModelError("\(source): \(list.count) \(key); only models with one input and one output are supported") }
        guard let entry = list[0].array, entry.count >= 1, let name = entry[0].string else {
            throw ModelError("\(source): config.\(key) is \(value!.text.prefix(80)); expected [[layer, node, index]]")
        }
        guard (entry[safe: 2]?.int ?? 0) == 0 else { throw ModelError("\(source): \(key) reads output \(entry[2].text) of '\(name)'; only one-output layers are supported") }
        return [(name, entry[safe: 1]?.int ?? 0)]
    }

    /// Kahn's order, earliest listed first (a Keras file's own order when it is one already), of the
    /// calls that lead to `output`, which comes last; a call that leads nowhere or a cycle is an error.
    private static func topologicalOrder(_ reads: [[Int]], output: Int, names: [String]) throws -> [Int] {
        var leadsToOutput = Set([output]), pending = [output]
        while let call = pending.popLast() {
            for source in reads[call] where source >= 0 && leadsToOutput.insert(source).inserted { pending.append(source) }
        }
        if let stray = reads.indices.first(where: { !leadsToOutput.contains($0) }) {
            throw ModelError("layer '\(names[stray])': its output does not lead to the model's output '\(names[output])'")
        }
        var waiting = reads.map { Set($0.filter { $0 >= 0 }).count }
        var readers = reads.map { _ in [Int]() }
        for (call, sources) in reads.enumerated() { for source in Set(sources) where source >= 0 { readers[source].append(call) } }
        var ready = reads.indices.filter { waiting[$0] == 0 }, order: [Int] = []
        while let next = ready.min() {
            ready.removeAll { $0 == next }
            order.append(next)
            for reader in readers[next] {
                waiting[reader] -= 1
                if waiting[reader] == 0 { ready.append(reader) }
            }
        }
        guard order.count == reads.count else {
            let stuck = reads.indices.first { !order.contains($0) }!
            throw ModelError("layer '\(names[stuck])': part of a cycle; a model is a graph without cycles")
        }
        return order
    }
}

private extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
