/// What a model description makes, answered without making it: the input shape and, per layer, its
/// name, kind, output shape, parameter count and forward FLOPs, read from layer objects built on
/// shapes alone (no parameter store, no activation buffers, a GEMM backend that plans nothing).
/// For summaries and checks that need a model's size, not the model.
public struct ModelPlan: Sendable {
    public struct LayerPlan: Sendable {
        public let name: String, kind: String
        public let outputShape: [Int]            // per sample
        /// The layers it reads (indices into `layers`; -1 is the model's input).
        public let inputs: [Int]
        public let parameterCount: Int
        /// FLOPs of its matrix products for one sample's forward pass (0 for a layer that multiplies nothing).
        public let forwardFLOPsPerSample: Int
    }

    public let inputShape: [Int]                 // per sample, e.g. [28, 28, 1]
    public let layers: [LayerPlan]
    /// Per Keras layer name, the index in `layers` holding its output (its activation part where it has one; -1 the input).
    public let kerasOutputs: [String: Int]

    /// Parameters of the whole model (what its `ParameterStore` would hold).
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }
    /// Values per sample of the last layer's output (the logits).
    public var outputSize: Int { elementCount(layers.last?.outputShape ?? inputShape) }
    /// GEMM FLOPs of one training sample, as `Sequential.trainingFLOPsPerSample` counts them.
    public var trainingFLOPsPerSample: Int {
        trainingFLOPs(forwardFLOPs: layers.map(\.forwardFLOPsPerSample), readsInputOnly: layers.map { $0.inputs.allSatisfy { $0 < 0 } })
    }
}

extension ModelDescription {
    /// The plan of the model `build(gemm:)` would make; throws exactly what `build(gemm:)` throws
    /// (the same layers through the same registry, options and shape checks).
    public func plan() throws -> ModelPlan {
        let made = try makeLayers(LayerBuildContext(gemm: ShapesOnlyGEMM()))
        let graph = try LayerGraph(inputShape: inputShape, layers: made.layers, names: made.names, inputs: made.inputs)
        let layers = made.layers.indices.map { i in
            ModelPlan.LayerPlan(
                name: graph.names[i], kind: made.layers[i].kind, outputShape: graph.outputShapes[i], inputs: graph.inputs[i],
                parameterCount: made.layers[i].parameterShapes.reduce(0) { $0 + elementCount($1.shape) },
                forwardFLOPsPerSample: (made.layers[i] as? PlannedLayer)?.forwardFLOPsPerSample ?? 0)
        }
        return ModelPlan(inputShape: inputShape, layers: layers, kerasOutputs: made.outputs)
    }
}

/// The backend of layers made only to be asked their shapes: they never run, so it plans nothing
/// and a product reaching it is a bug.
private final class ShapesOnlyGEMM: GEMMBackend {
    var name: String { "none" }
    var implementation: String { "none (shapes only)" }
    func setThreads(_ count: Int) {}
    func prepare(_ shape: GEMMShape) {}
    func multiply(_ shape: GEMMShape, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        preconditionFailure("a layer made by ModelDescription.plan() multiplied \(shape); planned layers never run")
    }
    func implementation(of shape: GEMMShape) -> String { "" }
}
