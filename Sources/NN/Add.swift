/// Keras's `Add`: the elementwise sum of its inputs, each of the output's shape or a `[1, 1, C]`
/// broadcast over every position. Each input's gradient is the output's (summed over the positions
/// it was broadcast to).
public final class Add: MergeLayer {
    public var kind: String { "add" }
    private var shapes: ElementwiseMergeShapes!

    public init() {}

    public func build(inputShapes: [[Int]]) throws -> [Int] {
        shapes = try ElementwiseMergeShapes(inputShapes, layer: "Add")
        return shapes.outputShape
    }

    public func forward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let (size, channels) = (elementCount(shapes.outputShape), shapes.channels)
        if shapes.broadcast[0] { output.update(repeating: 0, count: batch * size) }
        for (k, input) in inputs.enumerated() {
            if shapes.broadcast[k] {
                for n in 0..<batch {
                    let scale = input + n * channels
                    for position in stride(from: n * size, to: (n + 1) * size, by: channels) {
                        for c in 0..<channels { output[position + c] += scale[c] }
                    }
                }
            } else if k == 0 {
                output.update(from: input, count: batch * size)
            } else {
                for i in 0..<batch * size { output[i] += input[i] }
            }
        }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>,
                         inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>, batch: Int) {
        let (size, channels) = (elementCount(shapes.outputShape), shapes.channels)
        for (k, gradient) in inputGradients.enumerated() {
            guard let gradient else { continue }
            guard shapes.broadcast[k] else { gradient.update(from: outputGradient, count: batch * size); continue }
            gradient.update(repeating: 0, count: batch * channels)
            for n in 0..<batch {
                for position in stride(from: n * size, to: (n + 1) * size, by: channels) {
                    for c in 0..<channels { gradient[n * channels + c] += outputGradient[position + c] }
                }
            }
        }
    }
}

extension Add: KerasLayer {
    public static let kerasClassName = "Add"
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer { BuiltLayer([Add()]) }
}
