/// Keras's `Rescaling`: `y = x * scale + offset`, elementwise (one scale and one offset for every
/// channel). A `Rescaling` that reads the model's input sees the raw pixel values 0-255 that a Keras
/// model is fed: the loader gives pixels as `b / 255`, so such a layer multiplies by `255 * scale`.
public final class Rescaling: Layer {
    public let scale: Float, offset: Float
    public var kind: String { "rescaling" }
    private var size = 0

    public init(scale: Float, offset: Float = 0) { (self.scale, self.offset) = (scale, offset) }

    public func build(inputShape: [Int]) throws -> [Int] {
        size = elementCount(inputShape)
        return inputShape
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        for i in 0..<batch * size { output[i] = input[i] * scale + offset }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        for i in 0..<batch * size { inputGradient[i] = outputGradient[i] * scale }
    }
}

extension Rescaling: KerasLayer {
    public static let kerasClassName = "Rescaling"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        for key in ["scale", "offset"] where config[key]?.array != nil {
            throw config.error("option \(key) is \(config[key]!.text); only one number for every channel is supported")
        }
        guard config["scale"] != nil else { throw config.error("option scale is missing; expected a number") }
        let scale = try config.float("scale", default: 1, range: -1e9...1e9)
        let offset = try config.float("offset", default: 0, range: -1e9...1e9)
        return BuiltLayer([Rescaling(scale: context.readsPixels ? scale * 255 : scale, offset: offset)])
    }
}
