/// Keras's `Concatenate` along the channel axis (`axis` -1, or the last axis counted with the batch:
/// 3 for images, 1 for vectors): inputs of equal shapes but the last, joined in their order; each
/// input's gradient is its slice of the output's.
public final class Concatenate: MergeLayer {
    public var kind: String { "concatenate" }
    private var channels: [Int] = []       // per input
    private var positions = 0              // values per sample / output channels
    /// As Keras counts it, with the batch axis first: -1, or the inputs' rank (per sample) for the last axis.
    public let axis: Int

    public init(axis: Int = -1) { self.axis = axis }

    public func build(inputShapes: [[Int]]) throws -> [Int] {
        let rank = inputShapes.first?.count ?? 0
        guard axis == -1 || axis == rank else {
            throw ModelError("option axis is \(axis), but the last axis of inputs of shape \(inputShapes.first ?? []) is \(rank) "
                + "(counting the batch as 0); only the channel (last) axis is supported")
        }
        guard inputShapes.count >= 2 else { throw ModelError("Concatenate takes at least 2 inputs, got \(inputShapes.count)") }
        let leading = inputShapes[0].dropLast()
        guard inputShapes.allSatisfy({ !$0.isEmpty && $0.dropLast() == leading }) else {
            throw ModelError("Concatenate inputs of shapes \(inputShapes.map(\.description).joined(separator: ", ")) differ before the last axis")
        }
        channels = inputShapes.map { $0.last! }
        positions = leading.reduce(1, *)
        return Array(leading) + [channels.reduce(0, +)]
    }

    public func forward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let total = channels.reduce(0, +)
        var offset = 0
        for (input, width) in zip(inputs, channels) {
            for row in 0..<batch * positions { (output + row * total + offset).update(from: input + row * width, count: width) }
            offset += width
        }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>,
                         inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>, batch: Int) {
        let total = channels.reduce(0, +)
        var offset = 0
        for (gradient, width) in zip(inputGradients, channels) {
            defer { offset += width }
            guard let gradient else { continue }
            for row in 0..<batch * positions { (gradient + row * width).update(from: outputGradient + row * total + offset, count: width) }
        }
    }
}

extension Concatenate: KerasLayer {
    public static let kerasClassName = "Concatenate"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        BuiltLayer([Concatenate(axis: try config.int("axis", default: -1, range: -1...4))])
    }
}
