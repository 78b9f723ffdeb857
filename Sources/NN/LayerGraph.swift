/// Layers wired into a directed acyclic graph on a per-sample input shape: each layer's name, the
/// layers it reads and its output shape, every size checked. The layers come in an order where each
/// follows the layers it reads, and the last is the model's output; a chain (a Keras `Sequential`)
/// is the graph where layer i reads layer i - 1. `Sequential.init` and `ModelDescription.plan()`
/// both walk a model through here, so a model that does not fit is refused in the same words
/// whether it is built or only asked.
struct LayerGraph {
    let names: [String]            // one per layer
    let outputShapes: [[Int]]      // per sample, one per layer
    let inputs: [[Int]]            // per layer, the layers it reads in order; -1 is the model's input

    /// `names`: one per layer (a description's layer names, which then prefix errors: "layer 'x': ...");
    /// nil names them as Keras would (conv2d, conv2d_1, ..., dense). `inputs`: nil for a chain.
    init(inputShape: [Int], layers: [Layer], names givenNames: [String]?, inputs givenInputs: [[Int]]? = nil) throws {
        guard !layers.isEmpty else { throw ModelError("a Sequential model needs at least one layer") }
        try Self.checkSize(inputShape, "the input")
        precondition(givenNames == nil || givenNames!.count == layers.count, "one name per layer")
        precondition(givenInputs == nil || givenInputs!.count == layers.count, "one input list per layer")
        let inputs = givenInputs ?? layers.indices.map { [$0 - 1] }
        var (shapes, names): ([[Int]], [String]) = ([], [])
        var kinds: [String: Int] = [:]
        for (index, layer) in layers.enumerated() {
            // Keras-style names: conv2d, conv2d_1, ..., dense, dense_1.
            let ordinal = kinds[layer.kind, default: 0]
            kinds[layer.kind] = ordinal + 1
            let name = givenNames?[index] ?? (ordinal == 0 ? layer.kind : "\(layer.kind)_\(ordinal)")
            do {
                precondition(inputs[index].allSatisfy { (-1..<index).contains($0) }, "a layer reads only earlier layers")
                let inputShapes = inputs[index].map { $0 < 0 ? inputShape : shapes[$0] }
                let shape: [Int]
                if let merge = layer as? MergeLayer {
                    shape = try merge.build(inputShapes: inputShapes)
                } else {
                    guard inputShapes.count == 1 else { throw ModelError("takes one input, but is given \(inputShapes.count)") }
                    shape = try layer.build(inputShape: inputShapes[0])
                }
                try Self.checkSize(shape, "its output")
                for parameter in layer.parameterShapes { try Self.checkSize(parameter.shape, "its \(parameter.name)") }
                shapes.append(shape)
            } catch let error as ModelError where givenNames != nil {
                throw ModelError("layer '\(name)': \(error.description)")
            }
            names.append(name)
        }
        var firstUse: [String: Int] = [:]
        for (index, name) in names.enumerated() {
            if firstUse[name] != nil, !layers[index].parameterShapes.isEmpty {
                throw ModelError("layer '\(name)': called at more than one place in the graph; its weights would be shared, which is not supported")
            }
            firstUse[name] = firstUse[name] ?? index
        }
        let read = Set(inputs.joined())
        if let unread = layers.indices.dropLast().first(where: { !read.contains($0) }) {
            throw ModelError("layer '\(names[unread])': its output reaches nothing; the model's output is '\(names[names.count - 1])'")
        }
        (self.names, outputShapes, self.inputs) = (names, shapes, inputs)
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
