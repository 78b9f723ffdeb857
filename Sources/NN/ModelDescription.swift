import Foundation

/// A model as data: a Keras `Sequential` or functional model in the JSON Keras writes with
/// `model.to_json()` (`class_name`, `config.layers[]` each with its `class_name` and `config`, and
/// for a functional model each layer's `inbound_nodes`: `FunctionalGraph`).
///
/// Parsing checks the structure and every layer's options against what is implemented;
/// `build` makes the `Sequential`, whose parameters are named by the Keras layer names
/// (`conv2d_2.kernel`), so weights carry over in both directions; `plan` answers its shapes and
/// costs without making it.
public struct ModelDescription: Sendable {
    /// The JSON as given, kept for checkpoints (they carry the model that made them).
    public let json: String
    public let name: String
    /// Per sample, from the InputLayer (or the model's build input shape), e.g. [28, 28, 1].
    public let inputShape: [Int]
    public let layers: [LayerConfig]

    /// Per layer, the layers it reads (indices into `layers`, each earlier; -1 is the model's input):
    /// `[i - 1]` for a `Sequential`, the call's tensors for a functional model.
    public let inbound: [[Int]]

    /// `source` names the file (or preset) in messages.
    public init(json bytes: [UInt8], source: String) throws {
        let document = try JSONValue.parse(bytes, source: source)
        guard let className = document["class_name"]?.string else {
            throw ModelError("\(source): no class_name; expected a Keras model as model.to_json() writes it")
        }
        guard ["Sequential", "Functional", "Model"].contains(className) else {
            throw ModelError("\(source): class_name is '\(className)'; supported: Sequential and Functional models (model.to_json())")
        }
        guard let config = document["config"], config["layers"]?.array != nil else {
            throw ModelError("\(source): no config.layers list")
        }
        let layers: [LayerConfig], inbound: [[Int]]
        var inputShape: [Int]?
        if className == "Sequential" {
            (inputShape, layers) = try Self.sequentialLayers(config, source: source)
            inbound = layers.indices.map { [$0 - 1] }
            if inputShape == nil, let shape = config["build_input_shape"] ?? document["build_config"]?["input_shape"] {
                inputShape = try Self.sampleShape(shape, layer: nil, source: source)
            }
        } else {
            let graph = try FunctionalGraph(config, source: source)
            (inputShape, layers, inbound) = (graph.inputShape, graph.layers, graph.inbound)
        }
        guard let inputShape else { throw ModelError("\(source): no input shape (add keras.Input(shape=...) as the first layer)") }
        guard !layers.isEmpty else { throw ModelError("\(source): the model has no layers after its input") }
        if document["keras_version"]?.string?.hasPrefix("2.") == true { try Self.refuseKeras2Meanings(layers) }
        self.json = String(decoding: bytes, as: UTF8.self)
        self.name = config["name"]?.string ?? (className == "Sequential" ? "sequential" : "functional")
        (self.inputShape, self.layers, self.inbound) = (inputShape, layers, inbound)
    }

    /// Keras 2's `hard_sigmoid` is `clip(0.2 x + 0.5, 0, 1)`, Keras 3's (the one implemented) `relu6(x + 3) / 6`.
    private static func refuseKeras2Meanings(_ layers: [LayerConfig]) throws {
        for layer in layers where layer["activation"]?.string == "hard_sigmoid" {
            throw layer.error("activation hard_sigmoid in a Keras 2 model is clip(0.2 x + 0.5, 0, 1); only Keras 3's relu6(x + 3) / 6 is implemented")
        }
    }

    /// A `Sequential`'s `config`: its layers (an InputLayer only first, giving the input shape) and the
    /// input shape from that InputLayer or Keras 2's first-layer `batch_input_shape`; the names unique.
    static func sequentialLayers(_ config: JSONValue, source: String) throws -> (inputShape: [Int]?, layers: [LayerConfig]) {
        var layers: [LayerConfig] = []
        var inputShape: [Int]?
        for (index, entry) in (config["layers"]?.array ?? []).enumerated() {
            guard let layerClass = entry["class_name"]?.string, let options = entry["config"]?.object else {
                throw ModelError("\(source): layer \(index) has no class_name or config")
            }
            let layer = LayerConfig(className: layerClass, name: options["name"]?.string ?? "layer_\(index)", options: options)
            if layerClass == "InputLayer" {
                guard index == 0 else { throw layer.error("an InputLayer is supported only as the first layer") }
                inputShape = try inputLayerShape(layer, source: source)
                continue
            }
            try checkKnownType(layer)
            // Keras 2 writes the input shape into the first layer's config (read only there: anywhere
            // else it would be ignored, so it is left to the unknown-option check).
            if inputShape == nil, layers.isEmpty {
                let (keras2Shape, shape) = (layer["batch_input_shape"], layer["batch_shape"])
                if let given = keras2Shape ?? shape { inputShape = try Self.sampleShape(given, layer: layer, source: source) }
            }
            layers.append(layer)
        }
        let names = layers.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ModelError("\(source): layer name '\(repeated)' appears more than once")
        }
        return (inputShape, layers)
    }

    /// An InputLayer's per-sample shape; its other options checked.
    static func inputLayerShape(_ layer: LayerConfig, source: String) throws -> [Int] {
        let (shape, keras2Shape) = (layer["batch_shape"], layer["batch_input_shape"])
        let sampleShape = try Self.sampleShape(shape ?? keras2Shape, layer: layer, source: source)
        for key in ["sparse", "ragged", "optional"] { try layer.requireDefault(key, .bool(false)) }
        try layer.checkCommonOptions()
        try layer.checkEveryOptionKnown()
        return sampleShape
    }

    /// Refuses a layer type the registry does not know.
    static func checkKnownType(_ layer: LayerConfig) throws {
        guard LayerRegistry.type(named: layer.className) != nil else {
            throw layer.error("unknown layer type; supported: \(LayerRegistry.supportedNames)")
        }
    }

    /// Reads a model JSON file (a regular file of at most 16 MiB).
    public init(contentsOfFile path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ModelError("\(path): no such file; expected a Keras model JSON (model.to_json())") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw ModelError("\(path): is not a regular file (a directory, FIFO or device)") }
        guard info.st_size <= 16 << 20 else { throw ModelError("\(path): is \(info.st_size) bytes; a model JSON is at most 16 MiB") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError("\(path): cannot be read") }
        try self.init(json: Array(data), source: path)
    }

    /// A hash of the JSON text: two descriptions with equal hashes build the same model.
    public var contentHash: UInt64 {
        var hash = ContentHash()
        hash.mix(json)
        return hash.value
    }

    /// The model, its matrix products on `gemm`; throws naming the layer whose options or
    /// shapes do not fit. `attached`: layers trained with it outside its graph (`AttachedLayer`).
    public func build(gemm: GEMMBackend, attached: [AttachedLayer] = []) throws -> Sequential {
        let made = try makeLayers(LayerBuildContext(gemm: gemm))
        let model = try Sequential(inputShape: inputShape, layers: made.layers, names: made.names, inputs: made.inputs, frozen: made.frozen,
                                   constraints: made.constraints, regularizers: made.regularizers, attached: attached)
        model.description = self
        model.kerasOutputs = made.outputs
        return model
    }

    /// The layers the registry makes from each config (not yet built on a shape), with their names
    /// (a layer's activation part is `<name>_activation`, reading its layer) and the layers each reads
    /// (-1 the model's input); throws naming the layer whose options do not fit. `build(gemm:)` and
    /// `plan()` both start here.
    /// Constraints and regularisers are kept for the layers that train, as Keras applies them to its
    /// trainable weights only.
    func makeLayers(_ context: LayerBuildContext) throws -> MadeLayers {
        var made = MadeLayers()
        var outputOf: [Int] = []   // per config: the made layer holding its output (-1: the model's input)
        let pixels = pixelSources
        for (index, config) in layers.enumerated() {
            try config.checkCommonOptions()
            var layerContext = context
            layerContext.readsPixels = inbound[index].count == 1 && pixels.contains(inbound[index][0])
            let layer = try LayerRegistry.type(named: config.className)!.make(config, context: layerContext)
            try config.checkEveryOptionKnown()
            if layer.endsInSoftmax, index != layers.count - 1 {
                throw config.error("softmax is supported only as the model's last activation (it is kept out of the logits)")
            }
            // Keras runs a frozen BatchNormalization in inference mode; a frozen Dropout still drops.
            if config.isFrozen { for case let normalisation as BatchNormalization in layer.layers { normalisation.frozen = true } }
            var reads = inbound[index].map { $0 < 0 ? -1 : outputOf[$0] }
            if layer.layers.isEmpty, reads.count != 1 { throw config.error("takes one input, but is given \(reads.count)") }
            if !config.isFrozen, !layer.constraints.isEmpty { made.constraints[made.layers.count] = layer.constraints }
            if !config.isFrozen, !layer.regularizers.isEmpty { made.regularizers[made.layers.count] = layer.regularizers }
            for (part, item) in layer.layers.enumerated() {
                made.layers.append(item)
                made.names.append(part == 0 ? config.name : "\(config.name)_activation")   // the only extra part
                made.inputs.append(reads)
                if config.isFrozen { made.frozen.insert(made.layers.count - 1) }
                reads = [made.layers.count - 1]
            }
            outputOf.append(reads[0])
            made.outputs[config.name] = reads[0]
        }
        try checkPixelReaders()
        return made
    }

    /// What `makeLayers` makes: the layers, their names, what each reads, and (by layer index) which
    /// are frozen and their parameters' constraints and regularisers.
    struct MadeLayers {
        var layers: [Layer] = [], names: [String] = [], inputs: [[Int]] = []
        /// Per Keras layer name, the made layer holding its output (its activation part where it has one).
        var outputs: [String: Int] = [:]
        var frozen = Set<Int>()
        var constraints: [Int: [String: WeightConstraint]] = [:]
        var regularizers: [Int: [String: WeightRegularizer]] = [:]
    }

    /// The Keras layers that change images in training only.
    public static let augmentationClassNames = [RandomFlip.kerasClassName, RandomTranslation.kerasClassName, RandomZoom.kerasClassName,
                                          RandomCrop.kerasClassName]

    /// Whether any layer augments in training (a distilled student's teacher must then see each view).
    public var augmentsInTraining: Bool { layers.contains { Self.augmentationClassNames.contains($0.className) } }

    /// The input (-1) and the leading augmentation layers (`RandomFlip`, `RandomTranslation`, `RandomZoom` or `RandomCrop`
    /// reading the input or another such layer), whose outputs are the input's pixels moved: what a leading `Rescaling` reads.
    var pixelSources: Set<Int> {
        var sources: Set<Int> = [-1]
        for index in layers.indices where Self.augmentationClassNames.contains(layers[index].className)
            && inbound[index].count == 1 && sources.contains(inbound[index][0]) {
            sources.insert(index)
        }
        return sources
    }

    /// The layers that, reading the input, see the raw pixels 0-255 as in Keras: `Rescaling`, `Normalization` and the
    /// operations with a number.
    static let rawPixelReaders = Set([Rescaling.kerasClassName, Normalization.kerasClassName] + NumberOperation.kerasClassNames)

    /// A `Rescaling` (or a `Normalization`, or an operation with a number) that reads the input (or a leading augmentation layer) sees
    /// pixels 0-255, any other layer 0-1: one model, one scale.
    private func checkPixelReaders() throws {
        let pixels = pixelSources
        let readers = layers.indices.filter { !pixels.contains($0) && inbound[$0].contains(where: pixels.contains) }.map { layers[$0] }
        guard let raw = readers.first(where: { Self.rawPixelReaders.contains($0.className) }),
              let other = readers.first(where: { !Self.rawPixelReaders.contains($0.className) }) else { return }
        throw other.error("reads the model's input beside '\(raw.name)' (\(raw.className)), which is given the raw pixels 0-255 (this "
            + "layer would get 0-1); read its output instead")
    }

    /// `[null, H, W, C]` (a batch shape) -> `[H, W, C]`.
    static func sampleShape(_ value: JSONValue?, layer: LayerConfig?, source: String) throws -> [Int] {
        let place = layer.map { "layer '\($0.name)' (\($0.className))" } ?? source
        guard let items = value?.array, items.count >= 2, items.count <= 4 else {
            throw ModelError("\(place): input shape is \(value?.text ?? "missing"); expected [null, height, width, channels] or [null, features]")
        }
        let dimensions = items.dropFirst().map(\.int)
        guard dimensions.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 1 << 16 }) else {
            throw ModelError("\(place): input shape is \(value!.text); every dimension after the batch must be a positive integer")
        }
        return dimensions.map { $0! }
    }
}
