/// All of a model's parameters in one flat buffer, with gradients in a second one of the same
/// layout: one loop updates the whole model and one collective reduces all of its gradients.
public final class ParameterStore {
    /// One named tensor's place in the flat buffers.
    public struct Entry {
        public let name: String       // e.g. "conv2d_1.kernel"
        public let shape: [Int]
        public let offset: Int
        public let initializer: Initializer
        public var count: Int { elementCount(shape) }
        /// Where it lies in the flat buffers.
        public var range: Range<Int> { offset..<offset + count }
    }

    public let entries: [Entry]
    public let values: FloatBuffer      // [count]
    public let gradients: FloatBuffer   // [count]
    public var count: Int { values.count }

    init(shapes: [(name: String, shape: [Int], initializer: Initializer)]) {
        var offset = 0
        entries = shapes.map { name, shape, initializer in
            defer { offset += elementCount(shape) }
            return Entry(name: name, shape: shape, offset: offset, initializer: initializer)
        }
        values = FloatBuffer(count: offset)
        gradients = FloatBuffer(count: offset)
    }

    public func zeroGradients() { gradients.zero() }

    /// Every tensor as its layer initialises it (Keras's defaults: Glorot-uniform kernels, zero
    /// biases), drawing in entry order from `rng`.
    public func initialize(using rng: inout SeededGenerator) {
        for entry in entries {
            entry.initializer.fill(values.pointer + entry.offset, shape: entry.shape, using: &rng)
        }
    }

    /// The parameters as named tensors, in entry order (for checkpoints).
    public func namedTensors() -> [NamedTensor] {
        entries.map { entry in
            NamedTensor(name: entry.name, shape: entry.shape,
                        values: Array(UnsafeBufferPointer(start: values.pointer + entry.offset, count: entry.count)))
        }
    }

    /// Loads tensors by name; every entry must be present with its exact shape, and nothing else.
    public func load(_ tensors: [NamedTensor], source: String) throws {
        var byName: [String: NamedTensor] = [:]
        for tensor in tensors {
            guard byName.updateValue(tensor, forKey: tensor.name) == nil else {
                throw ModelError("\(source): tensor '\(tensor.name)' appears more than once")
            }
        }
        for entry in entries {
            guard let tensor = byName[entry.name] else {
                throw ModelError("\(source): tensor '\(entry.name)' is missing; expected \(entries.map(\.name))")
            }
            guard tensor.shape == entry.shape, tensor.values.count == entry.count else {
                throw ModelError("\(source): tensor '\(entry.name)' has shape \(tensor.shape), expected \(entry.shape)")
            }
        }
        let expected = Set(entries.map(\.name))
        if let extra = tensors.first(where: { !expected.contains($0.name) }) {
            throw ModelError("\(source): unexpected tensor '\(extra.name)'; this model has \(entries.map(\.name))")
        }
        for entry in entries {
            byName[entry.name]!.values.withUnsafeBufferPointer {
                (values.pointer + entry.offset).update(from: $0.baseAddress!, count: entry.count)
            }
        }
    }
}
