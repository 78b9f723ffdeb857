/// Keras's `Multiply`: the elementwise product of its inputs (in their order, as Keras multiplies),
/// each of the output's shape or a `[1, 1, C]` broadcast over every position (squeeze-and-excitation).
/// The gradient with respect to input k is the output's times the product of the other inputs.
public final class Multiply: MergeLayer {
    public var kind: String { "multiply" }
    private var shapes: ElementwiseMergeShapes!

    public init() {}

    public func build(inputShapes: [[Int]]) throws -> [Int] {
        shapes = try ElementwiseMergeShapes(inputShapes, layer: "Multiply")
        return shapes.outputShape
    }

    /// Input k's value at element `i` of sample `n`'s output.
    @inline(__always)
    private func value(_ inputs: UnsafeBufferPointer<UnsafePointer<Float>>, _ k: Int, sample n: Int, element i: Int, size: Int) -> Float {
        shapes.broadcast[k] ? inputs[k][n * shapes.channels + i % shapes.channels] : inputs[k][n * size + i]
    }

    public func forward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let size = elementCount(shapes.outputShape)
        for n in 0..<batch {
            for i in 0..<size {
                var product = value(inputs, 0, sample: n, element: i, size: size)
                for k in 1..<inputs.count { product *= value(inputs, k, sample: n, element: i, size: size) }
                output[n * size + i] = product
            }
        }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>,
                         inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>, batch: Int) {
        let (size, channels) = (elementCount(shapes.outputShape), shapes.channels)
        for (k, gradient) in inputGradients.enumerated() {
            guard let gradient else { continue }
            if shapes.broadcast[k] { gradient.update(repeating: 0, count: batch * channels) }
            for n in 0..<batch {
                for i in 0..<size {
                    var others = outputGradient[n * size + i]
                    for j in inputs.indices where j != k { others *= value(inputs, j, sample: n, element: i, size: size) }
                    if shapes.broadcast[k] { gradient[n * channels + i % channels] += others } else { gradient[n * size + i] = others }
                }
            }
        }
    }
}

extension Multiply: KerasLayer {
    public static let kerasClassName = "Multiply"
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer { BuiltLayer([Multiply()]) }
}
