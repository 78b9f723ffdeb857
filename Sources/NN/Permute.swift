/// Keras's `Permute(dims)`: the per-sample axes reordered, output axis i is input axis `dims[i] - 1` (Keras counts
/// the batch as 0). With `Reshape`, a ShuffleNet's channel shuffle: `[H, W, G, C/G]` permuted `(1, 2, 4, 3)`.
/// Forward gathers each output value from its input position; backward scatters the gradient back.
public final class Permute: Layer {
    /// The permutation of the per-sample axes, from 0.
    public let order: [Int]
    public var kind: String { "permute" }
    private var source: [Int32] = []   // [size]: output element i reads input element source[i]

    public init(order: [Int]) { self.order = order }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard order.sorted() == Array(0..<inputShape.count) else {
            throw ModelError("Permute's dims \(order.map { $0 + 1 }) are not a permutation of its input's axes 1...\(inputShape.count) (shape \(inputShape))")
        }
        let outputShape = order.map { inputShape[$0] }
        var inputStrides = [Int](repeating: 1, count: inputShape.count)
        for axis in inputShape.indices.dropLast().reversed() { inputStrides[axis] = inputStrides[axis + 1] * inputShape[axis + 1] }
        source = (0..<elementCount(inputShape)).map { i in
            var (rest, index) = (i, 0)
            for axis in outputShape.indices.reversed() {
                index += rest % outputShape[axis] * inputStrides[order[axis]]
                rest /= outputShape[axis]
            }
            return Int32(index)
        }
        return outputShape
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let size = source.count
        for n in 0..<batch {
            let (x, y) = (input + n * size, output + n * size)
            for i in 0..<size { y[i] = x[Int(source[i])] }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        let size = source.count
        for n in 0..<batch {
            let (dy, dx) = (outputGradient + n * size, inputGradient + n * size)
            for i in 0..<size { dx[Int(source[i])] = dy[i] }
        }
    }
}

extension Permute: KerasLayer {
    public static let kerasClassName = "Permute"

    /// `dims`: the per-sample axes, counted from 1, in their new order.
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let value = config["dims"]
        let dims = value?.array?.compactMap(\.int) ?? []
        guard !dims.isEmpty, dims.count == value?.array?.count, dims.count <= 8, dims.sorted() == Array(1...dims.count) else {
            throw config.error("option dims is \(value?.text ?? "missing"); expected a permutation of 1...rank (the batch is 0)")
        }
        return BuiltLayer([Permute(order: dims.map { $0 - 1 })])
    }
}
