/// Layers built one on another from a per-sample input shape: each layer's name and output shape,
/// every size checked. `Sequential.init` and `ModelDescription.plan()` both walk a model through
/// here, so a model that does not fit is refused in the same words whether it is built or only asked.
struct LayerChain {
    let names: [String]            // one per layer
    let outputShapes: [[Int]]      // per sample, one per layer

    /// `names`: one per layer (a description's layer names, which then prefix errors: "layer 'x': ...");
    /// nil names them as Keras would (conv2d, conv2d_1, ..., dense).
    init(inputShape: [Int], layers: [Layer], names givenNames: [String]?) throws {
        guard !layers.isEmpty else { throw ModelError("a Sequential model needs at least one layer") }
        try Self.checkSize(inputShape, "the input")
        precondition(givenNames == nil || givenNames!.count == layers.count, "one name per layer")
        var shape = inputShape
        var shapes: [[Int]] = []
        var names: [String] = []
        var kinds: [String: Int] = [:]
        for (index, layer) in layers.enumerated() {
            // Keras-style names: conv2d, conv2d_1, ..., dense, dense_1.
            let ordinal = kinds[layer.kind, default: 0]
            kinds[layer.kind] = ordinal + 1
            let name = givenNames?[index] ?? (ordinal == 0 ? layer.kind : "\(layer.kind)_\(ordinal)")
            do {
                shape = try layer.build(inputShape: shape)
                try Self.checkSize(shape, "its output")
                for parameter in layer.parameterShapes { try Self.checkSize(parameter.shape, "its \(parameter.name)") }
            } catch let error as ModelError where givenNames != nil {
                throw ModelError("layer '\(name)': \(error.description)")
            }
            shapes.append(shape)
            names.append(name)
        }
        (self.names, outputShapes) = (names, shapes)
    }

    /// Refuses a tensor of more than 2^31 elements (8 GiB of floats per sample or parameter), so that
    /// no count further on overflows.
    static func checkSize(_ shape: [Int], _ what: String) throws {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow, product <= 1 << 31 else {
                throw ModelError("\(what) of shape \(shape) is larger than 2^31 values")
            }
            count = product
        }
    }
}
