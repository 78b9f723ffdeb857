/// InceptionResNetV2's `CustomScaleLayer` (keras.applications.inception_resnet_v2's own layer): a residual
/// block's output `y = x + r * scale`, `x` the shortcut and `r` the block's branch, both of one shape, `scale` a
/// fixed number (0.17, 0.1 or 0.2 by block type; no weight). In Float32 as Keras: the number rounded to Float32,
/// then one multiply and one add. Gradients: `dx = dy`, `dr = dy * scale`.
public final class CustomScaleLayer: MergeLayer {
    public let scale: Float
    public var kind: String { "custom_scale" }
    private var size = 0

    public init(scale: Float) { self.scale = scale }

    public func build(inputShapes: [[Int]]) throws -> [Int] {
        guard inputShapes.count == 2, inputShapes[0] == inputShapes[1] else {
            throw ModelError("CustomScaleLayer takes 2 inputs of one shape (shortcut, branch), got "
                + inputShapes.map(\.description).joined(separator: ", "))
        }
        size = elementCount(inputShapes[0])
        return inputShapes[0]
    }

    public func forward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let (shortcut, branch) = (inputs[0], inputs[1])
        for i in 0..<batch * size { output[i] = shortcut[i] + branch[i] * scale }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>,
                         inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>, batch: Int) {
        inputGradients[0]?.update(from: outputGradient, count: batch * size)
        if let branch = inputGradients[1] {
            for i in 0..<batch * size { branch[i] = outputGradient[i] * scale }
        }
    }
}

extension CustomScaleLayer: KerasLayer {
    public static let kerasClassName = "CustomScaleLayer"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        BuiltLayer([CustomScaleLayer(scale: try config.float("scale", range: -1e9...1e9))])
    }
}
