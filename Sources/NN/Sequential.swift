import Dispatch

/// Receives per-layer timings from a `Sequential` (a profiler; nil in training).
public protocol LayerClock: AnyObject {
    func record(layer: Int, backward: Bool, nanoseconds: UInt64)
}

/// A stack of layers with its parameters in one `ParameterStore` and one activation buffer
/// per layer output, sized once for the largest batch (`reserve`), so steps never allocate.
public final class Sequential {
    public let layers: [Layer]
    public let inputShape: [Int]           // per sample, e.g. [28, 28, 1]
    public let outputShapes: [[Int]]       // per sample, one per layer
    public let parameters: ParameterStore

    private var activations: [FloatBuffer] = []          // [maxBatch, outputShapes[i]]
    private var activationGradients: [FloatBuffer] = []  // same shapes
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

    public var inputSize: Int { elementCount(inputShape) }
    public var outputSize: Int { elementCount(outputShapes.last ?? inputShape) }
    public var parameterCount: Int { parameters.count }

    /// GEMM FLOPs of one training sample: forward, kernel gradient and input gradient of every
    /// layer, except the first layer's input gradient, which is never formed.
    public var trainingFLOPsPerSample: Int { trainingFLOPs(forwardFLOPs: layers.indices.map(forwardFLOPs(ofLayer:))) }

    /// The matrix products layer `index` makes in a training step of `batch` samples, named
    /// ("forward", "kernel gradient", "input gradient"); empty for a layer that multiplies nothing.
    public func gemmShapes(ofLayer index: Int, batch: Int) -> [(name: String, shape: GEMMShape)] {
        planned[index]?.gemmShapes(batch: batch) ?? []
    }

    /// FLOPs of layer `index`'s matrix products for one sample's forward pass (0 for one that multiplies nothing).
    public func forwardFLOPs(ofLayer index: Int) -> Int { planned[index]?.forwardFLOPsPerSample ?? 0 }

    /// `names`: one per layer (a description's layer names); nil names them as Keras would.
    public init(inputShape: [Int], layers: [Layer], names givenNames: [String]? = nil) throws {
        let chain = try LayerChain(inputShape: inputShape, layers: layers, names: givenNames)
        self.inputShape = inputShape
        self.layers = layers
        outputShapes = chain.outputShapes
        layerNames = chain.names
        var names: [(name: String, shape: [Int], initializer: Initializer)] = []
        var ranges: [[Int]] = []
        for (layer, layerName) in zip(layers, chain.names) {
            ranges.append(Array(names.count..<names.count + layer.parameterShapes.count))
            names += layer.parameterShapes.map { ("\(layerName).\($0.name)", $0.shape, layer.initializer(for: $0.name)) }
        }
        modeDependent = layers.enumerated().compactMap { index, layer in (layer as? ModeDependentLayer).map { (index, $0) } }
        planned = layers.map { $0 as? PlannedLayer }
        parameters = ParameterStore(shapes: names)
        for (layer, range) in zip(layers, ranges) {
            let entries = range.map { parameters.entries[$0] }
            layer.bind(parameters: entries.map { parameters.values.pointer + $0.offset },
                       gradients: entries.map { parameters.gradients.pointer + $0.offset })
        }
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
        activationGradients = outputShapes.map { FloatBuffer(count: batch * elementCount($0)) }
        for layer in layers { layer.reserve(maxBatch: batch) }
    }

    /// Sizes workspaces for the largest of `batchSizes` and plans every layer's products for each
    /// size (a loop's full batches and its last, smaller one), so no step makes a plan.
    public func prepare(batchSizes: Set<Int>) {
        reserve(maxBatch: batchSizes.max() ?? 0)
        for batch in batchSizes.sorted() where batch > 0 {
            for case let layer? in planned { layer.prepare(batch: batch) }
        }
    }

    /// Runs `input[batch, inputShape]` through every layer; returns the logits `[batch, outputSize]`,
    /// valid until the next forward. `training` nil is inference (no dropout).
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: TrainingPass? = nil) -> UnsafeMutablePointer<Float> {
        precondition(batch <= maxBatch, "batch \(batch) exceeds the reserved \(maxBatch); call reserve(maxBatch:)")
        for (index, layer) in modeDependent { layer.begin(training, layer: index) }
        var current = input
        for (index, (layer, output)) in zip(layers, activations).enumerated() {
            let start = layerClock == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            layer.forward(input: current, output: output.pointer, batch: batch)
            layerClock?.record(layer: index, backward: false, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
            current = UnsafePointer(output.pointer)
        }
        return activations[activations.count - 1].pointer
    }

    /// Back-propagates `outputGradient[batch, outputSize]` through the last forward (same `input`),
    /// adding into `parameters.gradients`. The gradient with respect to `input` is not computed.
    public func backward(_ input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, batch: Int) {
        var gradient = outputGradient
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let layerInput = i == 0 ? input : UnsafePointer(activations[i - 1].pointer)
            let inputGradient = i == 0 ? nil : activationGradients[i - 1].pointer
            let start = layerClock == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            layers[i].backward(outputGradient: gradient, inputGradient: inputGradient,
                               input: layerInput, output: activations[i].pointer, batch: batch)
            layerClock?.record(layer: i, backward: true, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
            if let inputGradient { gradient = UnsafePointer(inputGradient) }
        }
    }
}
