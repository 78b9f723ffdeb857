import Dispatch

/// Receives per-layer timings from a `Sequential` (a profiler; nil in training).
public protocol LayerClock: AnyObject {
    func record(layer: Int, backward: Bool, nanoseconds: UInt64)
}

/// Layers in a directed acyclic graph (a Keras functional model; a `Sequential` stack is the chain
/// where layer i reads layer i - 1) with its parameters in one `ParameterStore`, one activation
/// buffer per layer output and a few gradient buffers the layers' output gradients take in turn
/// (`GradientBufferPlan`), sized once for the largest batch (`reserve`), so steps never allocate.
/// Layers run in their order forward and in reverse backward; a layer whose output several others
/// read gets the sum of their gradients (the first written in place, the others through a scratch
/// buffer of their own and added). A BatchNormalization followed by a ReLU-like activation that alone
/// reads it runs the pair in its own loops (`FusedActivation`; the same bits), writing the activation's
/// output; the activation's turn is skipped both ways.
public final class Sequential {
    public let layers: [Layer]
    /// Per layer, the layers it reads, in order; -1 is the model's input. A chain reads `[i - 1]`.
    public let inputs: [[Int]]
    public let inputShape: [Int]           // per sample, e.g. [28, 28, 1]
    public let outputShapes: [[Int]]       // per sample, one per layer
    public let parameters: ParameterStore

    private var activations: [FloatBuffer] = []          // [maxBatch, outputShapes[i]]
    private var gradientBuffers: [FloatBuffer] = []      // [maxBatch, gradientPlan.sizes[k]]
    private let gradientPlan: GradientBufferPlan
    public private(set) var maxBatch = 0
    /// Keras layer names: from the model description, else made as Keras does (conv2d, conv2d_1, ..., dense).
    public let layerNames: [String]
    /// The description this model was built from (nil for one assembled in code).
    public internal(set) var description: ModelDescription?
    /// The layers that behave differently in training, with their positions.
    private let modeDependent: [(index: Int, layer: ModeDependentLayer)]
    /// Each layer as a `PlannedLayer` (nil for one that multiplies nothing): cast once here, so
    /// planning and costs never cast per call.
    private let planned: [PlannedLayer?]
    /// When set, told how long each layer's forward and backward took (`distill bench --profile`).
    public var layerClock: LayerClock?
    /// Each layer as a `MergeLayer` (nil for one that reads one input), cast once here.
    private let merges: [MergeLayer?]
    /// Per layer and input: true when that input's gradient is added to one a later layer already
    /// wrote (its output is read more than once); such an input gets a scratch buffer of its own.
    private let accumulates: [[Bool]]
    private var gradientScratch: [[FloatBuffer?]] = []     // [layer][input], where `accumulates`
    /// A merge layer's input and gradient pointers, filled before each call (no allocation per step).
    private let inputPointers: UnsafeMutablePointer<UnsafePointer<Float>>
    /// The gradient slices of frozen layers' parameters (Keras `trainable: false`), zeroed after each
    /// backward pass so that no optimizer moves them.
    private let frozenGradients: [Range<Int>]
    /// The store's ranges an optimizer trains, as Keras's `trainable_variables`: every parameter but
    /// frozen layers' and non-trainable ones (moving statistics); adjacent ranges joined.
    public let trainableRanges: [Range<Int>]
    private let gradientPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// The weights with a Keras constraint (MaxNorm, UnitNorm, NonNeg), applied after each update.
    private let constrained: [ConstrainedWeight]
    /// The weights with a Keras regulariser (L1, L2, L1L2): their offsets, sizes and regularisers.
    private let regularized: [(offset: Int, count: Int, regularizer: WeightRegularizer)]
    /// Layers trained with the model outside its graph (hint regressors), and their output shapes per sample.
    public let attached: [AttachedLayer]
    public let attachedShapes: [[Int]]
    /// The model's own parameters, the first ones of the store (the attached layers' follow): what a saved model holds.
    public let modelParameterCount: Int
    /// Per Keras layer name of the description, the layer holding its output (after its activation); nil for a model made in code.
    public internal(set) var kerasOutputs: [String: Int]?
    /// Per layer: for a BatchNormalization running its activation, that activation's index (the next layer,
    /// whose buffers it writes and reads).
    private var fusedActivations: [Int?]
    /// Per layer: whether the gradient of its output reaches a parameter an optimizer trains (in it or in a
    /// layer it reads, directly or not). Where it does not (padding, Rescaling or augmentation reading the
    /// input), the backward pass neither computes that gradient nor runs the layer.
    private let gradientNeeded: [Bool]

    public var inputSize: Int { elementCount(inputShape) }
    public var outputSize: Int { elementCount(outputShapes.last ?? inputShape) }
    public var parameterCount: Int { parameters.count }

    /// GEMM FLOPs of one training sample: forward, kernel gradient and input gradient of every
    /// layer, except the first layer's input gradient, which is never formed.
    public var trainingFLOPsPerSample: Int {
        trainingFLOPs(forwardFLOPs: layers.indices.map(forwardFLOPs(ofLayer:)), readsInputOnly: inputs.map { $0.allSatisfy { $0 < 0 } })
    }

    /// The matrix products layer `index` makes in a training step of `batch` samples, named
    /// ("forward", "kernel gradient", "input gradient"); empty for a layer that multiplies nothing.
    public func gemmShapes(ofLayer index: Int, batch: Int) -> [(name: String, shape: GEMMShape)] {
        planned[index]?.gemmShapes(batch: batch) ?? []
    }

    /// FLOPs of layer `index`'s matrix products for one sample's forward pass (0 for one that multiplies nothing).
    public func forwardFLOPs(ofLayer index: Int) -> Int { planned[index]?.forwardFLOPsPerSample ?? 0 }

    /// `names`: one per layer (a description's layer names); nil names them as Keras would.
    /// `inputs`: per layer, the layers it reads (-1 the model's input), each earlier in `layers`; nil for a chain.
    /// `frozen`: the layers whose parameters never change. `constraints` and `regularizers`: per layer, its
    /// constrained or regularised parameters by name (a name the layer does not have, such as a bias
    /// it does not use, is skipped). `attached`: layers trained with the model outside its graph, built here on
    /// the output of the layer each reads; their parameters come after the model's and are all trainable.
    public init(inputShape: [Int], layers: [Layer], names givenNames: [String]? = nil, inputs givenInputs: [[Int]]? = nil,
                frozen: Set<Int> = [], constraints: [Int: [String: WeightConstraint]] = [:],
                regularizers: [Int: [String: WeightRegularizer]] = [:], attached: [AttachedLayer] = []) throws {
        let graph = try LayerGraph(inputShape: inputShape, layers: layers, names: givenNames, inputs: givenInputs)
        var attachedShapes: [[Int]] = []
        for item in attached {
            precondition(layers.indices.contains(item.reads), "an attached layer reads a layer of the model")
            guard !graph.names.contains(item.name), attached.filter({ $0.name == item.name }).count == 1 else {
                throw ModelError("attached layer '\(item.name)': the name is taken by another layer")
            }
            do {
                let shape = try item.layer.build(inputShape: graph.outputShapes[item.reads])
                try LayerGraph.checkSize(shape, "its output")
                attachedShapes.append(shape)
            } catch let error as ModelError {
                throw ModelError("attached layer '\(item.name)': \(error.description)")
            }
        }
        self.attached = attached
        self.attachedShapes = attachedShapes
        self.inputShape = inputShape
        self.layers = layers
        inputs = graph.inputs
        outputShapes = graph.outputShapes
        layerNames = graph.names
        merges = layers.map { $0 as? MergeLayer }
        accumulates = Self.accumulatingInputs(graph.inputs)
        let fused = FusedActivation.pairs(layers: layers, inputs: graph.inputs, frozen: frozen, kept: Set(attached.map(\.reads)))
        fusedActivations = layers.indices.map { fused[$0] }
        for (normalization, activation) in fused {
            (layers[normalization] as! BatchNormalization).fusedActivation = FusedActivation(layers[activation])
        }
        gradientPlan = GradientBufferPlan(inputs: graph.inputs, sizes: graph.outputShapes.map(elementCount),
                                          readBelow: Dictionary(uniqueKeysWithValues: fused.map { ($1, $0) }))
        var needed: [Bool] = []
        for (index, layer) in layers.enumerated() {
            let trains = !frozen.contains(index) && layer.parameterShapes.contains { !layer.nonTrainableParameters.contains($0.name) }
            needed.append(trains || graph.inputs[index].contains { $0 >= 0 && needed[$0] })
        }
        gradientNeeded = needed
        let fanIn = graph.inputs.map(\.count).max() ?? 1
        inputPointers = .allocate(capacity: fanIn)
        gradientPointers = .allocate(capacity: fanIn)
        var names: [(name: String, shape: [Int], initializer: Initializer)] = []
        var ranges: [[Int]] = []
        for (layer, layerName) in zip(layers, graph.names) {
            ranges.append(Array(names.count..<names.count + layer.parameterShapes.count))
            names += layer.parameterShapes.map { ("\(layerName).\($0.name)", $0.shape, layer.initializer(for: $0.name)) }
        }
        let ownEntries = names.count
        for item in attached {
            ranges.append(Array(names.count..<names.count + item.layer.parameterShapes.count))
            names += item.layer.parameterShapes.map { ("\(item.name).\($0.name)", $0.shape, item.layer.initializer(for: $0.name)) }
        }
        modeDependent = layers.enumerated().compactMap { index, layer in (layer as? ModeDependentLayer).map { (index, $0) } }
        planned = layers.map { $0 as? PlannedLayer }
        let store = ParameterStore(shapes: names)
        parameters = store
        modelParameterCount = ownEntries < store.entries.count ? store.entries[ownEntries].offset : store.count
        /// Layer `index`'s parameters: each one's own name (`kernel`) with its entry in the store.
        func parameterEntries(_ index: Int) -> [(name: String, entry: ParameterStore.Entry)] {
            zip(layers[index].parameterShapes, ranges[index]).map { ($0.name, store.entries[$1]) }
        }
        let ownTrainable = layers.indices.filter { !frozen.contains($0) }.flatMap { index in
            parameterEntries(index).filter { !layers[index].nonTrainableParameters.contains($0.name) }.map(\.entry.range)
        }
        let attachedTrainable = ranges.dropFirst(layers.count).joined().map { store.entries[$0].range }
        trainableRanges = (ownTrainable + attachedTrainable).reduce(into: [Range<Int>]()) { joined, range in
            if let last = joined.last, last.upperBound == range.lowerBound { joined[joined.count - 1] = last.lowerBound..<range.upperBound }
            else { joined.append(range) }
        }
        frozenGradients = frozen.sorted().flatMap { ranges[$0] }.map { store.entries[$0].range }
        constrained = try constraints.keys.sorted().flatMap { layer in
            try parameterEntries(layer).compactMap { name, entry in
                try constraints[layer]![name].map { try ConstrainedWeight($0, offset: entry.offset, shape: entry.shape, name: "layer '\(graph.names[layer])'") }
            }
        }
        regularized = regularizers.keys.sorted().flatMap { layer in
            parameterEntries(layer).compactMap { name, entry in regularizers[layer]![name].map { (entry.offset, entry.count, $0) } }
        }
        for (layer, range) in zip(layers + attached.map(\.layer), ranges) {
            let entries = range.map { parameters.entries[$0] }
            layer.bind(parameters: entries.map { parameters.values.pointer + $0.offset },
                       gradients: entries.map { parameters.gradients.pointer + $0.offset })
        }
    }

    /// The activation layer that layer `index` runs in its own loops (a BatchNormalization's), if any.
    public func fusedActivation(ofLayer index: Int) -> Int? { fusedActivations[index] }

    /// Runs layer `index` apart from an activation fused into it, so that its own output is kept
    /// (`output(ofLayer:)`, `forward(through:)`, a gradient added at it): a feature hint's layer.
    public func keepOutput(ofLayer index: Int) {
        guard fusedActivations[index] != nil else { return }
        (layers[index] as! BatchNormalization).fusedActivation = nil
        fusedActivations[index] = nil
    }

    /// The regularisers' penalty on the current weights (0 without any), which Keras adds to the loss.
    public func regularizationPenalty() -> Double {
        regularized.reduce(0) { $0 + $1.regularizer.penalty(parameters.values.pointer + $1.offset, count: $1.count) }
    }

    /// Adds the penalty's gradient into the parameter gradients; the step calls it once, after the
    /// gradient allreduce (the same on every rank).
    public func addRegularizationGradients() {
        for weight in regularized {
            weight.regularizer.addGradient(parameters.values.pointer + weight.offset, into: parameters.gradients.pointer + weight.offset,
                                           count: weight.count)
        }
    }

    /// Applies every weight constraint to the parameters; the step calls it after the optimizer's update.
    public func applyConstraints() {
        for weight in constrained { weight.apply(parameters.values.pointer) }
    }

    deinit {
        inputPointers.deallocate()
        gradientPointers.deallocate()
    }

    /// Walking the layers backward, an input's gradient is written in place the first time its layer
    /// is reached and added every later time.
    private static func accumulatingInputs(_ inputs: [[Int]]) -> [[Bool]] {
        var written = Set<Int>()
        var result = inputs.map { $0.map { _ in false } }
        for layer in inputs.indices.reversed() {
            for (slot, source) in inputs[layer].enumerated() where source >= 0 {
                result[layer][slot] = !written.insert(source).inserted
            }
        }
        return result
    }

    /// Bytes a forward pass touches per sample: every layer's output and workspace.
    public var forwardBytesPerSample: Int {
        4 * (outputShapes.reduce(0) { $0 + elementCount($1) } + planned.reduce(0) { $0 + ($1?.workspacePerSample ?? 0) })
    }

    /// The largest batch (at most `limit`) whose forward pass touches at most `cacheBytes`, at least 1.
    /// Inference over many samples (the teacher-logit pass) runs in such chunks: a batch whose
    /// im2col buffer outgrows the last-level cache runs at half speed, worse with two ranks.
    public func forwardBatch(cacheBytes: Int, limit: Int = 256) -> Int {
        Swift.max(1, Swift.min(limit, cacheBytes / Swift.max(forwardBytesPerSample, 1)))
    }

    /// Sizes activations and layer workspaces for batches of up to `batch` samples.
    public func reserve(maxBatch batch: Int) {
        guard batch > maxBatch else { return }
        maxBatch = batch
        activations = outputShapes.map { FloatBuffer(count: batch * elementCount($0)) }
        gradientBuffers = gradientPlan.sizes.map { FloatBuffer(count: batch * $0) }
        gradientScratch = zip(inputs, accumulates).map { sources, adds in
            zip(sources, adds).map { source, add in add ? FloatBuffer(count: batch * elementCount(outputShapes[source])) : nil }
        }
        for layer in layers + attached.map(\.layer) { layer.reserve(maxBatch: batch) }
    }

    /// Sizes workspaces for the largest of `batchSizes` and plans every layer's products for each
    /// size (a loop's full batches and its last, smaller one), so no step makes a plan.
    public func prepare(batchSizes: Set<Int>) {
        reserve(maxBatch: batchSizes.max() ?? 0)
        for batch in batchSizes.sorted() where batch > 0 {
            for case let layer? in planned + attached.map({ $0.layer as? PlannedLayer }) { layer.prepare(batch: batch) }
        }
    }

    /// Runs `input[batch, inputShape]` through every layer; returns the logits `[batch, outputSize]`,
    /// valid until the next forward. `training` nil is inference (no dropout).
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: TrainingPass? = nil) -> UnsafeMutablePointer<Float> {
        forward(input, batch: batch, training: training, through: layers.count - 1)
    }

    /// Runs layers `0...last` only (each follows the layers it reads); returns layer `last`'s output
    /// `[batch, outputShapes[last]]` (a teacher's intermediate features for a hint).
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: TrainingPass? = nil, through last: Int) -> UnsafeMutablePointer<Float> {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the reserved \(maxBatch); call reserve(maxBatch:)")
        precondition(fusedActivations[last] == nil, "layer \(last)'s output is its fused activation's: keepOutput(ofLayer:) first")
        for (index, layer) in modeDependent { layer.begin(training, layer: index) }
        for index in 0...last where !runsInItsNormalization(index) {
            let (layer, output) = (layers[index], activations[fusedActivations[index] ?? index])
            let start = layerClock == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            if let merge = merges[index] {
                for (slot, source) in inputs[index].enumerated() { inputPointers[slot] = activation(source, input) }
                merge.forward(inputs: UnsafeBufferPointer(start: inputPointers, count: inputs[index].count), output: output.pointer, batch: batch)
            } else {
                layer.forward(input: activation(inputs[index][0], input), output: output.pointer, batch: batch)
            }
            layerClock?.record(layer: index, backward: false, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
        }
        return activations[last].pointer
    }

    /// Back-propagates `outputGradient[batch, outputSize]` through the last forward (same `input`),
    /// adding into `parameters.gradients`. The gradient with respect to `input` is not computed.
    /// `extra`: gradients of other terms with respect to the outputs of inner layers (a hint's, `[batch,
    /// outputShapes[layer]]`), each added to what the layer's readers sent back before the layer's own backward.
    public func backward(_ input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, batch: Int,
                         adding extra: [(layer: Int, gradient: UnsafePointer<Float>)] = []) {
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            for (layer, added) in extra where layer == i {
                precondition(i < layers.count - 1, "the output layer's gradient is the caller's: add to it there")
                precondition(fusedActivations[i] == nil, "layer \(i)'s output is its fused activation's: keepOutput(ofLayer:) first")
                accumulate(added, into: gradientBuffer(i), count: batch * elementCount(outputShapes[i]))
            }
            if runsInItsNormalization(i) || !gradientNeeded[i] { continue }
            let read = fusedActivations[i] ?? i   // the output whose gradient this layer takes
            let gradient = read == layers.count - 1 ? outputGradient : UnsafePointer(gradientBuffer(read))
            let start = layerClock == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            if let merge = merges[i] {
                for (slot, source) in inputs[i].enumerated() {
                    inputPointers[slot] = activation(source, input)
                    gradientPointers[slot] = inputGradient(layer: i, slot: slot)
                }
                merge.backward(outputGradient: gradient, inputGradients: UnsafeBufferPointer(start: gradientPointers, count: inputs[i].count),
                               inputs: UnsafeBufferPointer(start: inputPointers, count: inputs[i].count),
                               output: activations[i].pointer, batch: batch)
            } else {
                layers[i].backward(outputGradient: gradient, inputGradient: inputGradient(layer: i, slot: 0),
                                   input: activation(inputs[i][0], input), output: activations[read].pointer, batch: batch)
            }
            layerClock?.record(layer: i, backward: true, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
            for (slot, source) in inputs[i].enumerated() where accumulates[i][slot] && gradientNeeded[source] {
                accumulate(gradientScratch[i][slot]!.pointer, into: gradientBuffer(source), count: batch * elementCount(outputShapes[source]))
            }
        }
        for range in frozenGradients { (parameters.gradients.pointer + range.lowerBound).update(repeating: 0, count: range.count) }
    }

    /// Whether layer `index` is an activation its BatchNormalization runs (its own turn is skipped both ways).
    @inline(__always)
    private func runsInItsNormalization(_ index: Int) -> Bool { index > 0 && fusedActivations[index - 1] == index }

    /// The output of layer `index` in the last forward, `[batch, outputShapes[index]]`, valid until the next forward.
    public func output(ofLayer index: Int) -> UnsafePointer<Float> {
        precondition(fusedActivations[index] == nil, "layer \(index)'s output is its fused activation's: keepOutput(ofLayer:) first")
        return UnsafePointer(activations[index].pointer)
    }

    /// How many layers form the leading augmentation chain: layers 0..<n, each an `AugmentationLayer` reading the
    /// one before (the first, the input). Their output is the view of the batch the rest of the model trains on.
    public var leadingAugmentationCount: Int {
        var count = 0
        while count < layers.count, layers[count] is AugmentationLayer, inputs[count] == [count - 1] { count += 1 }
        return count
    }

    /// The output of layer `source`, or the model's `input` for -1.
    @inline(__always)
    private func activation(_ source: Int, _ input: UnsafePointer<Float>) -> UnsafePointer<Float> {
        source < 0 ? input : UnsafePointer(activations[source].pointer)
    }

    /// Where layer `layer` writes the gradient of its input `slot`: nil for the model's input and for an
    /// output whose gradient reaches no trained parameter, its own scratch when it is added to another's,
    /// else the source's gradient buffer.
    @inline(__always)
    private func inputGradient(layer: Int, slot: Int) -> UnsafeMutablePointer<Float>? {
        let source = inputs[layer][slot]
        guard source >= 0, gradientNeeded[source] else { return nil }
        return accumulates[layer][slot] ? gradientScratch[layer][slot]!.pointer : gradientBuffer(source)
    }

    /// The buffer holding the gradient of layer `index`'s output during the backward pass (not the last layer's).
    @inline(__always)
    private func gradientBuffer(_ index: Int) -> UnsafeMutablePointer<Float> { gradientBuffers[gradientPlan.buffers[index]!].pointer }
}
