import NN

/// What Keras's `model.summary()` shows, per layer: its name, kind, output shape per sample,
/// parameter count and the FLOPs of its matrix products for one sample's forward pass.
public struct ModelSummary: Sendable {
    public struct Row: Sendable {
        public let name: String, kind: String
        public let outputShape: [Int]
        public let parameters: Int
        public let forwardFLOPs: Int
    }

    public let name: String
    public let inputShape: [Int]
    public let rows: [Row]
    public var parameters: Int { rows.reduce(0) { $0 + $1.parameters } }
    public var forwardFLOPs: Int { rows.reduce(0) { $0 + $1.forwardFLOPs } }
    /// A training step's FLOPs per sample: forward and both gradients (the first layer forms no input gradient).
    public let trainingFLOPs: Int

    /// The summary of the model `description` builds (with a GEMM backend that plans nothing).
    public init(_ description: ModelDescription, gemm: GEMMBackend) throws {
        let model = try description.build(gemm: gemm)
        name = description.name
        inputShape = model.inputShape
        rows = model.layers.indices.map { i in
            let layer = model.layers[i]
            return Row(name: model.layerNames[i], kind: layer.kind, outputShape: model.outputShapes[i],
                       parameters: layer.parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) },
                       forwardFLOPs: model.forwardFLOPs(ofLayer: i))
        }
        trainingFLOPs = model.trainingFLOPsPerSample
    }
}
