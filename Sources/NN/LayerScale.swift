/// ConvNeXt's `LayerScale` (keras.applications.convnext's own layer class): `y = x * gamma`, one learnt
/// scale per channel, started at `init_values` (1e-6 in ConvNeXt, so each residual branch starts nearly off).
/// Keras names its weight `variable` (an unnamed `add_weight`), and so does this layer.
public final class LayerScale: Layer {
    public let initialValue: Float, channels: Int
    public var kind: String { "layer_scale" }
    private var size = 0
    private var gamma: UnsafeMutablePointer<Float>!, gammaGradient: UnsafeMutablePointer<Float>!

    public init(initialValue: Float, channels: Int) { (self.initialValue, self.channels) = (initialValue, channels) }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.last == channels else {
            throw ModelError("layer scale has projection_dim \(channels), but its input \(inputShape) has \(inputShape.last ?? 0) channels")
        }
        size = elementCount(inputShape)
        return inputShape
    }

    public var parameterShapes: [(name: String, shape: [Int])] { [("variable", [channels])] }
    public func initializer(for parameter: String) -> Initializer { .constant(initialValue) }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        (gamma, gammaGradient) = (parameters[0], gradients[0])
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        for row in 0..<batch * size / channels {
            for k in 0..<channels { output[row * channels + k] = input[row * channels + k] * gamma[k] }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        for row in 0..<batch * size / channels {
            let i = row * channels
            for k in 0..<channels {
                gammaGradient[k] += outputGradient[i + k] * input[i + k]
                inputGradient?[i + k] = outputGradient[i + k] * gamma[k]
            }
        }
    }
}

extension LayerScale: KerasLayer {
    public static let kerasClassName = "LayerScale"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        BuiltLayer([LayerScale(initialValue: try config.float("init_values", range: -1e9...1e9), channels: try config.int("projection_dim"))])
    }
}
