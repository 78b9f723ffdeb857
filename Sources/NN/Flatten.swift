/// `[N, H, W, C]` -> `[N, H * W * C]` in NHWC order, as Keras's `Flatten` on channels-last data.
public final class Flatten: Layer {
    public var kind: String { "flatten" }
    private var size = 0

    public init() {}

    public func build(inputShape: [Int]) throws -> [Int] {
        size = elementCount(inputShape)
        return [size]
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        output.update(from: input, count: batch * size)
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        inputGradient?.update(from: outputGradient, count: batch * size)
    }
}

extension Flatten: KerasLayer {
    public static let kerasClassName = "Flatten"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer { BuiltLayer([Flatten()]) }
}
