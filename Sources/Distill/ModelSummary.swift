import NN

/// What Keras's `model.summary()` shows, per layer: its name, kind, output shape per sample,
/// parameter count and the FLOPs of its matrix products for one sample's forward pass.
public struct ModelSummary: Sendable {
    public struct Row: Sendable {
        public let name: String, kind: String
        public let outputShape: [Int]
        public let parameters: Int
        public let forwardFLOPs: Int
        /// The layers it reads, by name ("input" for the model's input), as Keras's "Connected to".
        public let connectedTo: [String]
    }

    public let name: String
    public let inputShape: [Int]
    public let rows: [Row]
    public var parameters: Int { rows.reduce(0) { $0 + $1.parameters } }
    public var forwardFLOPs: Int { rows.reduce(0) { $0 + $1.forwardFLOPs } }
    /// A training step's FLOPs per sample: forward and both gradients (the first layer forms no input gradient).
    public let trainingFLOPs: Int
    /// True when each layer reads the one before it (a `Sequential`): nothing to show as connections.
    public let isChain: Bool

    /// The summary of the model `description` makes, from its plan (no `Sequential` is made).
    public init(_ description: ModelDescription) throws {
        let plan = try description.plan()
        name = description.name
        inputShape = plan.inputShape
        rows = plan.layers.map {
            Row(name: $0.name, kind: $0.kind, outputShape: $0.outputShape, parameters: $0.parameterCount,
                forwardFLOPs: $0.forwardFLOPsPerSample, connectedTo: $0.inputs.map { $0 < 0 ? "input" : plan.layers[$0].name })
        }
        isChain = plan.layers.enumerated().allSatisfy { $1.inputs == [$0 - 1] }
        trainingFLOPs = plan.trainingFLOPsPerSample
    }
}
